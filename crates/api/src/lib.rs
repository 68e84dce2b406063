//! faultline API
