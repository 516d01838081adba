-- Recovery and SMS codes are kept as keyed digests from now on (domain::keyed: HMAC-SHA256
-- under a key derived from TOTP_SEAL_KEY, stored as 'k1.' + hex). The earlier unkeyed
-- SHA-256 digests are voided rather than kept as a weak copy: an account that had
-- recovery codes gets new ones when it next sets its second factor, and a pending SMS
-- code is asked for again. Recovery codes waiting in the clear to be shown go too (they
-- are now held sealed, 'v1.', until their one page view).
DELETE FROM recovery_codes WHERE code_hash NOT LIKE 'k1.%';
DELETE FROM sms_challenges WHERE code_hash NOT LIKE 'k1.%';
UPDATE sessions SET recovery_reveal = NULL
  WHERE recovery_reveal IS NOT NULL AND recovery_reveal NOT LIKE 'v1.%';
