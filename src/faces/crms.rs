//! The registry of CRM faces: which CRMs this build emulates, by the name
//! `serve --crm` takes. It is not a face; adding a CRM is a folder beside
//! the others and one line here.

use std::sync::Arc;

use super::{insightly, pipedrive, redtail};
use crate::web::crm::CrmFace;

/// Every CRM face built in, in the order `--crm all` serves them.
pub const CRM_NAMES: &[&str] = &[redtail::NAME, insightly::NAME, pipedrive::NAME];

/// The face named `name`, ready to serve.
pub fn crm_face(name: &str) -> Option<Arc<dyn CrmFace>> {
    match name {
        redtail::NAME => Some(Arc::new(redtail::Redtail)),
        insightly::NAME => Some(Arc::new(insightly::Insightly)),
        pipedrive::NAME => Some(Arc::new(pipedrive::Pipedrive)),
        _ => None,
    }
}
