//! Datasets in the ReasonSeg format (as in the LISA release): `NAME.jpg` plus
//! `NAME.json` with the queries and the answer as polygons.

pub mod raster;
