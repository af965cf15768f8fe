//! What model to fit or which model a file holds: a component family and a
//! covariance (or scale) structure. The one list of families and structures
//! of the workspace; the fitting crates, the model files and the command line
//! all name models through it.

use core::fmt;
use core::str::FromStr;

use crate::ModelError;

/// A component family. Matches over it are exhaustive on purpose, as over
/// [`crate::AnyMixture`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Family {
    /// Multivariate normal components.
    Gaussian,
    /// Products of univariate Laplace distributions.
    Laplace,
    /// Multivariate Student-t components (heavy tails; a location, a scale
    /// matrix and degrees of freedom each).
    StudentT,
}

impl Family {
    /// Every family.
    pub const ALL: [Self; 3] = [Self::Gaussian, Self::Laplace, Self::StudentT];

    /// The name used in model files and on the command line.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Gaussian => "gaussian",
            Self::Laplace => "laplace",
            Self::StudentT => "student-t",
        }
    }

    /// The structures the family can be fitted with, the default first.
    pub fn structures(self) -> &'static [Covariance] {
        match self {
            Self::Gaussian | Self::StudentT => &Covariance::ALL,
            Self::Laplace => &[Covariance::Diag, Covariance::Spherical],
        }
    }

    /// The family's default structure.
    pub fn default_structure(self) -> Covariance {
        self.structures()[0]
    }
}

impl fmt::Display for Family {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Family {
    type Err = ModelError;
    fn from_str(s: &str) -> Result<Self, ModelError> {
        Self::ALL
            .into_iter()
            .find(|f| f.as_str() == s)
            .ok_or_else(|| ModelError::UnknownFamily(s.to_owned()))
    }
}

/// A covariance (or scale) structure. The first four are scikit-learn's; the
/// tied diagonal and tied spherical structures complete mclust's axis-aligned
/// models; the associated constants give mclust's names:
///
/// | mclust | here | meaning |
/// |---|---|---|
/// | `EII` | `TiedSpherical` | one variance `σ² I` shared by all components |
/// | `VII` | `Spherical` | `σₖ² I` per component |
/// | `EEI` | `TiedDiag` | one diagonal covariance shared by all |
/// | `VVI` | `Diag` | a diagonal covariance per component |
/// | `EEE` | `Tied` | one full covariance shared by all |
/// | `VVV` | `Full` | a full covariance per component |
///
/// Laplace components have a scale per feature (`Diag`) or one per
/// component (`Spherical`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Covariance {
    /// A full covariance per component (mclust `VVV`).
    Full,
    /// A diagonal covariance per component (`VVI`).
    Diag,
    /// A single variance per component (`VII`).
    Spherical,
    /// One full covariance shared by all components (`EEE`).
    Tied,
    /// One diagonal covariance shared by all components (`EEI`).
    TiedDiag,
    /// One variance shared by all components (`EII`).
    TiedSpherical,
}

#[allow(non_upper_case_globals)]
impl Covariance {
    /// mclust `EII`: equal volume, spherical.
    pub const EII: Self = Self::TiedSpherical;
    /// mclust `VII`: varying volume, spherical.
    pub const VII: Self = Self::Spherical;
    /// mclust `EEI`: equal volume and shape, axis-aligned.
    pub const EEI: Self = Self::TiedDiag;
    /// mclust `VVI`: varying volume and shape, axis-aligned.
    pub const VVI: Self = Self::Diag;
    /// mclust `EEE`: equal volume, shape and orientation.
    pub const EEE: Self = Self::Tied;
    /// mclust `VVV`: unconstrained.
    pub const VVV: Self = Self::Full;

    /// Every structure.
    pub const ALL: [Self; 6] = [
        Self::Full,
        Self::Tied,
        Self::Diag,
        Self::Spherical,
        Self::TiedDiag,
        Self::TiedSpherical,
    ];

    /// scikit-learn's four covariance types, in its order.
    pub const SKLEARN: [Self; 4] = [Self::Full, Self::Tied, Self::Diag, Self::Spherical];

    /// Our name (`"full"`, `"diag"`, `"spherical"`, `"tied"`, `"tied-diag"`,
    /// `"tied-spherical"`), as in model files.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Full => "full",
            Self::Diag => "diag",
            Self::Spherical => "spherical",
            Self::Tied => "tied",
            Self::TiedDiag => "tied-diag",
            Self::TiedSpherical => "tied-spherical",
        }
    }

    /// mclust's name of the structure.
    pub fn mclust_name(self) -> &'static str {
        match self {
            Self::Full => "VVV",
            Self::Diag => "VVI",
            Self::Spherical => "VII",
            Self::Tied => "EEE",
            Self::TiedDiag => "EEI",
            Self::TiedSpherical => "EII",
        }
    }

    /// How the parameters are stored ([`crate::Covariances`]'s variant): a
    /// tied diagonal covariance is stored as `K` equal diagonal rows, a tied
    /// spherical one as `K` equal variances.
    pub fn storage(self) -> Self {
        match self {
            Self::TiedDiag => Self::Diag,
            Self::TiedSpherical => Self::Spherical,
            other => other,
        }
    }

    /// Whether the structure has a `D x D` matrix per component or shared.
    pub fn is_full(self) -> bool {
        matches!(self, Self::Full | Self::Tied)
    }

    /// Free covariance parameters of `k` components in `d` dimensions.
    pub fn n_free_parameters(self, k: usize, d: usize) -> usize {
        match self {
            Self::Full => k * d * (d + 1) / 2,
            Self::Tied => d * (d + 1) / 2,
            Self::Diag => k * d,
            Self::TiedDiag => d,
            Self::Spherical => k,
            Self::TiedSpherical => 1,
        }
    }
}

impl fmt::Display for Covariance {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Covariance {
    type Err = ModelError;
    /// Accepts our names, scikit-learn's and mclust's (case-insensitive for
    /// mclust).
    fn from_str(s: &str) -> Result<Self, ModelError> {
        if let Some(c) = Self::ALL.into_iter().find(|c| c.as_str() == s) {
            return Ok(c);
        }
        Ok(match s {
            "tied_diag" => Self::TiedDiag,
            "tied_spherical" => Self::TiedSpherical,
            _ => {
                let upper = s.to_ascii_uppercase();
                return Self::ALL
                    .into_iter()
                    .find(|c| c.mclust_name() == upper)
                    .ok_or_else(|| {
                        ModelError::invalid(
                            "covariance",
                            s,
                            "expected full, diag, spherical, tied, tied-diag, tied-spherical \
                             or an mclust name (EII, VII, EEI, VVI, EEE, VVV)",
                        )
                    });
            }
        })
    }
}

/// A model to fit, or the kind of a fitted one: a family and a structure the
/// family has.
///
/// Written as the structure's name for Gaussian models (`full`, `tied-diag`,
/// mclust's `VVV`, ...) and as `family-structure` otherwise
/// (`laplace-diag`); `gaussian-full` and `laplace spherical` are read too.
///
/// ```
/// use mixtures_dist::{Covariance, Family, ModelSpec};
///
/// let spec: ModelSpec = "laplace-spherical".parse()?;
/// assert_eq!(spec.family(), Family::Laplace);
/// assert_eq!(spec.covariance(), Covariance::Spherical);
/// assert_eq!("EEI".parse::<ModelSpec>()?, ModelSpec::gaussian(Covariance::TiedDiag));
/// assert_eq!(spec.to_string().parse::<ModelSpec>()?, spec);
/// assert!(ModelSpec::new(Family::Laplace, Covariance::Tied).is_err());
/// # Ok::<(), mixtures_dist::ModelError>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct ModelSpec {
    family: Family,
    covariance: Covariance,
}

impl ModelSpec {
    /// scikit-learn's four Gaussian covariance types: full, tied, diag,
    /// spherical.
    pub const SKLEARN: [Self; 4] = [
        Self::gaussian(Covariance::Full),
        Self::gaussian(Covariance::Tied),
        Self::gaussian(Covariance::Diag),
        Self::gaussian(Covariance::Spherical),
    ];

    /// The six mclust models this workspace fits: EII, VII, EEI, VVI, EEE, VVV.
    pub const MCLUST: [Self; 6] = [
        Self::gaussian(Covariance::EII),
        Self::gaussian(Covariance::VII),
        Self::gaussian(Covariance::EEI),
        Self::gaussian(Covariance::VVI),
        Self::gaussian(Covariance::EEE),
        Self::gaussian(Covariance::VVV),
    ];

    /// Laplace components with a scale per feature.
    pub const LAPLACE_DIAG: Self = Self {
        family: Family::Laplace,
        covariance: Covariance::Diag,
    };
    /// Laplace components with one scale each.
    pub const LAPLACE_SPHERICAL: Self = Self {
        family: Family::Laplace,
        covariance: Covariance::Spherical,
    };
    /// Both Laplace structures.
    pub const LAPLACE: [Self; 2] = [Self::LAPLACE_DIAG, Self::LAPLACE_SPHERICAL];

    /// Gaussian components under a covariance structure (every structure is
    /// a Gaussian one).
    pub const fn gaussian(covariance: Covariance) -> Self {
        Self {
            family: Family::Gaussian,
            covariance,
        }
    }

    /// Student-t components with a scale structure (every structure is a
    /// Student-t one).
    pub const fn student_t(covariance: Covariance) -> Self {
        Self {
            family: Family::StudentT,
            covariance,
        }
    }

    /// A family with one of its structures.
    ///
    /// # Errors
    /// [`ModelError::InvalidParameter`] when the family does not have the
    /// structure (Laplace has `diag` and `spherical`).
    pub fn new(family: Family, covariance: Covariance) -> Result<Self, ModelError> {
        if family.structures().contains(&covariance) {
            Ok(Self { family, covariance })
        } else {
            Err(ModelError::invalid(
                "covariance",
                covariance.as_str(),
                match family {
                    Family::Laplace => {
                        "Laplace mixtures have diag (a scale per feature) or spherical \
                         (one scale per component) scales"
                    }
                    Family::Gaussian | Family::StudentT => "not a structure of this family",
                },
            ))
        }
    }

    /// Every spec: each family with each of its structures, in the order of
    /// [`Family::ALL`] and [`Family::structures`].
    pub fn all() -> impl Iterator<Item = Self> {
        Family::ALL.into_iter().flat_map(|family| {
            family
                .structures()
                .iter()
                .map(move |&covariance| Self { family, covariance })
        })
    }

    /// The family's default structure (Gaussian: full; Laplace: diag).
    pub fn default_for(family: Family) -> Self {
        Self {
            family,
            covariance: family.default_structure(),
        }
    }

    /// The family.
    pub fn family(self) -> Family {
        self.family
    }

    /// The structure.
    pub fn covariance(self) -> Covariance {
        self.covariance
    }

    /// A description for tables: `gaussian full (VVV)`, `laplace spherical`.
    pub fn describe(self) -> String {
        match self.family {
            Family::Gaussian | Family::StudentT => format!(
                "{} {} ({})",
                self.family,
                self.covariance.as_str(),
                self.covariance.mclust_name()
            ),
            Family::Laplace if self.covariance == Covariance::Spherical => {
                "laplace spherical".to_owned()
            }
            _ => format!("{} per-dimension", self.family),
        }
    }

    /// A number that identifies the spec in derived seeds. It never changes,
    /// so adding specs to a grid leaves the other cells' seeds (and fits) as
    /// they were.
    pub fn seed_code(self) -> u64 {
        let structure = Covariance::ALL
            .iter()
            .position(|&c| c == self.covariance)
            .unwrap_or(0) as u64;
        match self.family {
            // Full, Tied, Diag, Spherical, TiedDiag, TiedSpherical: 1, 2, ... 6.
            Family::Gaussian => 1 + structure,
            // Diag, Spherical: 17, 18.
            Family::Laplace => 17 + u64::from(self.covariance == Covariance::Spherical),
            // Full, Tied, Diag, Spherical, TiedDiag, TiedSpherical: 33, ... 38.
            Family::StudentT => 33 + structure,
        }
    }
}

impl From<Covariance> for ModelSpec {
    fn from(c: Covariance) -> Self {
        Self::gaussian(c)
    }
}

impl fmt::Display for ModelSpec {
    /// `full`, `tied-diag`, `laplace-diag`, ...: what [`FromStr`] reads and
    /// what fit reports name.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.family {
            Family::Gaussian => f.write_str(self.covariance.as_str()),
            other => write!(f, "{other}-{}", self.covariance),
        }
    }
}

impl FromStr for ModelSpec {
    type Err = ModelError;
    fn from_str(s: &str) -> Result<Self, ModelError> {
        for family in Family::ALL {
            for sep in ['-', ' '] {
                if let Some(rest) = s
                    .strip_prefix(family.as_str())
                    .and_then(|r| r.strip_prefix(sep))
                {
                    return Self::new(family, rest.parse()?);
                }
            }
            if s == family.as_str() {
                return Ok(Self::default_for(family));
            }
        }
        Ok(Self::gaussian(s.parse()?))
    }
}
