//! The fixed, named colour palette shared by the scene generator (which paints
//! with it) and the Digital Twin (which names measured colours with it).

/// One named palette colour and its sRGB anchor.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct NamedColour {
    /// The colour word used in the Digital Twin and in queries.
    pub name: &'static str,
    /// sRGB anchor value.
    pub rgb: [u8; 3],
}

/// The palette, in a stable order. Anchors are far apart in CIELAB so that
/// naming is unambiguous on synthetic scenes.
pub const PALETTE: &[NamedColour] = &[
    NamedColour {
        name: "red",
        rgb: [220, 40, 40],
    },
    NamedColour {
        name: "orange",
        rgb: [245, 140, 30],
    },
    NamedColour {
        name: "yellow",
        rgb: [245, 215, 40],
    },
    NamedColour {
        name: "green",
        rgb: [50, 160, 60],
    },
    NamedColour {
        name: "cyan",
        rgb: [40, 190, 200],
    },
    NamedColour {
        name: "blue",
        rgb: [40, 80, 210],
    },
    NamedColour {
        name: "purple",
        rgb: [130, 60, 180],
    },
    NamedColour {
        name: "pink",
        rgb: [240, 130, 180],
    },
    NamedColour {
        name: "brown",
        rgb: [130, 80, 40],
    },
    NamedColour {
        name: "black",
        rgb: [25, 25, 25],
    },
    NamedColour {
        name: "grey",
        rgb: [128, 128, 128],
    },
    NamedColour {
        name: "white",
        rgb: [245, 245, 245],
    },
];

/// Looks a palette colour up by its name.
pub fn by_name(name: &str) -> Option<NamedColour> {
    PALETTE.iter().copied().find(|c| c.name == name)
}
