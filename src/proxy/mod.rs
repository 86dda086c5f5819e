//! App Connect proxy-connector configs: CRMs described as JSON (SPEC §8).
//!
//! The pure core that both sides of mockcrm need: reading and validating a
//! config (`config`), its `{{…}}` templates run forwards and backwards
//! (`template`, `path`, with JavaScript's own value semantics in `js` and key
//! order in `json`), the requests App Connect's engine sends (`context`
//! builds each operation's variables, `render` the request, `mapping` reads
//! the answers), and for serving, the routes (`route`), the answers that
//! satisfy a response mapping and the meaning of a request (`answer`).
//!
//! This module never touches SQL, HTTP, files, the clock or the environment:
//! callers hand it text, values and the current time.

pub mod js;
pub mod json;
pub mod path;
pub mod template;
