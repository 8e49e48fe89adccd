//! Composing a reasoner's answer into the answer mask: the union of the
//! masks of the selected Digital Twin objects.

use crate::mask::Mask;
use crate::twin::DigitalTwin;

/// Why an answer could not be composed into a mask.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ComposeError {
    /// The answer names an id the twin does not have.
    #[error("the answer names object {0}, which the Digital Twin does not have")]
    UnknownId(u32),
    /// The twin object points at a segment that was not given.
    #[error(
        "object {id} refers to segment {segment}, but only {available} segment masks were given"
    )]
    MissingSegment {
        /// The object id.
        id: u32,
        /// Its segment index.
        segment: u32,
        /// How many masks were given.
        available: usize,
    },
    /// A segment mask does not have the image's size.
    #[error("the mask of object {id} is {found:?}, expected the image size {expected:?}")]
    SizeMismatch {
        /// The object id.
        id: u32,
        /// The mask's width and height.
        found: (u32, u32),
        /// The image's width and height.
        expected: (u32, u32),
    },
}

/// The union of the masks of the objects `ids` of `twin`, where `segments`
/// are the masks the twin was built from (indexed by each object's `segment`).
/// No ids give an empty mask of the image's size.
pub fn compose(twin: &DigitalTwin, segments: &[Mask], ids: &[u32]) -> Result<Mask, ComposeError> {
    let expected = (twin.image.width, twin.image.height);
    let mut answer = Mask::empty(expected.0, expected.1);
    for &id in ids {
        let object = twin.object(id).ok_or(ComposeError::UnknownId(id))?;
        let mask = segments
            .get(object.segment as usize)
            .ok_or(ComposeError::MissingSegment {
                id,
                segment: object.segment,
                available: segments.len(),
            })?;
        let found = (mask.width(), mask.height());
        if found != expected {
            return Err(ComposeError::SizeMismatch {
                id,
                found,
                expected,
            });
        }
        answer.union_with(mask);
    }
    Ok(answer)
}
