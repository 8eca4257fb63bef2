//! The typed ids an [`AppBuilder`](crate::AppBuilder) hands out for its sources and outputs:
//! plain indices, kept in a leaf module so that sources, sinks and the app driver can all name
//! them without importing one another.

/// The id of a source, returned by [`AppBuilder`](crate::AppBuilder)'s source methods and used
/// with [`BatchInput::text`](crate::BatchInput::text).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct SourceId(u32);

impl SourceId {
    /// The id of the `index`th source declared.
    pub(crate) fn new(index: usize) -> Self {
        SourceId(u32::try_from(index).expect("fewer than 2^32 sources"))
    }

    /// The position of the source among the app's sources.
    pub(crate) fn index(self) -> usize {
        self.0 as usize
    }
}

/// The id of an output operator, returned by [`AppBuilder`](crate::AppBuilder)'s output methods
/// and used with [`BatchOutput::emit`](crate::BatchOutput::emit).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct OutputId(u32);

impl OutputId {
    /// The id of the `index`th output declared.
    pub(crate) fn new(index: usize) -> Self {
        OutputId(u32::try_from(index).expect("fewer than 2^32 outputs"))
    }

    /// The position of the output among the app's outputs.
    pub(crate) fn index(self) -> usize {
        self.0 as usize
    }
}
