//! The files of the logical data structure (ICAO 9303 part 10).
pub mod sod;
