//! Exception tags: an identity plus the types of the values an exception of the tag carries.

use crate::layout::FuncType;
use std::sync::Arc;

struct TagInner {
    ty: FuncType,
}

/// An exception tag. Cloning is cheap; two `Tag`s are the same tag exactly when they are clones
/// of one another (an imported tag is its exporter's tag).
#[derive(Clone)]
pub struct Tag(Arc<TagInner>);

impl std::fmt::Debug for Tag {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Tag({:?}, {:#x})", self.0.ty.params, self.identity())
    }
}

impl PartialEq for Tag {
    fn eq(&self, other: &Tag) -> bool {
        Arc::ptr_eq(&self.0, &other.0)
    }
}
impl Eq for Tag {}

impl Tag {
    /// A fresh tag whose exceptions carry values of `ty.params` (`ty.results` must be empty).
    pub fn new(ty: FuncType) -> Tag {
        Tag(Arc::new(TagInner { ty }))
    }

    /// The tag's type.
    pub fn ty(&self) -> &FuncType {
        &self.0.ty
    }

    /// The address compiled code compares to decide whether a handler matches this tag (stored
    /// in each instance's tag array, see `VMOffsets::tags`).
    pub fn identity(&self) -> usize {
        Arc::as_ptr(&self.0) as usize
    }
}
