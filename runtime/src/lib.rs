//! streamc runtime
