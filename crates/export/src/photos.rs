//! Not written yet.
use crate::out::Output;
use crate::source::Source;
use crate::{Result, Section};

pub fn export(_source: &dyn Source, _out: &Output, _section: &mut Section) -> Result<()> {
    Ok(())
}
