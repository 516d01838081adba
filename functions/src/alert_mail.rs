//! The texts of an alert mail, written from the incidents its notifications claimed
//! (`domain::mail::alert_batch`): the company's name, one line per incident for the most
//! severe `domain::mail::LISTED_AT_MOST`, the count of the rest, the portal's links. Written once right after the claim; written again before sending if a flush
//! stopped in between, so a claimed notification is always mailed with its texts.

use domain::mail::{self, AlertLine};
use worker::Env;

use crate::error::AppError;

/// Writes the texts of alert mail `mail_id` from the incidents it claimed. Called right
/// after the claim (`notify`), and again by `delivery` for a mail whose texts are missing.
pub async fn write(env: &Env, db: &store::Db, mail_id: &str) -> Result<(), AppError> {
    let claimed = store::incidents::of_mail(db, mail_id).await?;
    let lines: Vec<AlertLine> = claimed.listed.iter().map(|i| i.line.clone()).collect();
    let company = claimed.listed.first().map_or("", |i| i.company.as_str());
    let config = crate::config::get(env);
    let texts = mail::alert_batch(company, &lines, claimed.more, &config.mail.portal);
    store::mails::write(db, mail_id, &texts).await?;
    Ok(())
}
