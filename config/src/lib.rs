//! accord config
