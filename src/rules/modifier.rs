//! Field modifiers (`request.path|startswith`): which comparison, `all`, `cased`, regex flags.

/// A numeric comparison (`|lt`, `|lte`, `|gt`, `|gte`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum NumOp {
    Lt,
    Lte,
    Gt,
    Gte,
}

impl NumOp {
    pub(crate) fn holds(self, x: f64, bound: f64) -> bool {
        match self {
            NumOp::Lt => x < bound,
            NumOp::Lte => x <= bound,
            NumOp::Gt => x > bound,
            NumOp::Gte => x >= bound,
        }
    }
}

/// The modifiers after a field name (`request.path|startswith`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) struct Modifiers {
    /// The comparison; plain equality with wildcards when `None`.
    pub(crate) kind: Option<Kind>,
    /// `|all`: every value must match instead of any.
    pub(crate) all: bool,
    /// `|cased`.
    pub(crate) cased: bool,
    /// `|re|i`, `|re|m`, `|re|s`.
    pub(crate) re_flags: ReFlags,
}

/// The comparison a modifier selects.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Kind {
    Contains,
    StartsWith,
    EndsWith,
    Re,
    Cidr,
    Exists,
    Num(NumOp),
}

/// Regex sub-modifiers.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub(crate) struct ReFlags {
    pub(crate) insensitive: bool,
    pub(crate) multi_line: bool,
    pub(crate) dot_all: bool,
}

impl Modifiers {
    /// Parses the modifiers of a key. On error returns the character offset of the bad modifier
    /// within `mods` (the text after the first `|`) and a message.
    pub(crate) fn parse(mods: &str) -> Result<Modifiers, (usize, String)> {
        let mut m = Modifiers::default();
        let mut offset = 0;
        for name in mods.split('|') {
            let here = offset;
            offset += name.chars().count() + 1;
            let kind = match name {
                "contains" => Kind::Contains,
                "startswith" => Kind::StartsWith,
                "endswith" => Kind::EndsWith,
                "re" => Kind::Re,
                "cidr" => Kind::Cidr,
                "exists" => Kind::Exists,
                "lt" => Kind::Num(NumOp::Lt),
                "lte" => Kind::Num(NumOp::Lte),
                "gt" => Kind::Num(NumOp::Gt),
                "gte" => Kind::Num(NumOp::Gte),
                "all" => {
                    m.all = true;
                    continue;
                }
                "cased" => {
                    m.cased = true;
                    continue;
                }
                "i" | "m" | "s" => {
                    if m.kind != Some(Kind::Re) {
                        return Err((here, format!("modifier `{name}` must follow `re`")));
                    }
                    match name {
                        "i" => m.re_flags.insensitive = true,
                        "m" => m.re_flags.multi_line = true,
                        _ => m.re_flags.dot_all = true,
                    }
                    continue;
                }
                "" => return Err((here, "empty modifier".into())),
                other => {
                    return Err((
                        here,
                        format!(
                            "unsupported modifier `{other}` (supported: contains, startswith, \
                             endswith, all, cased, exists, re (with i, m, s), cidr, lt, lte, gt, gte)"
                        ),
                    ));
                }
            };
            if let Some(prev) = m.kind {
                return Err((
                    here,
                    format!(
                        "modifier `{name}` cannot be combined with `{}`",
                        kind_name(prev)
                    ),
                ));
            }
            m.kind = Some(kind);
        }
        if m.cased
            && matches!(
                m.kind,
                Some(Kind::Re | Kind::Cidr | Kind::Exists | Kind::Num(_))
            )
        {
            let k = kind_name(m.kind.unwrap_or(Kind::Re));
            return Err((0, format!("`cased` has no meaning with `{k}`")));
        }
        if m.all && m.kind == Some(Kind::Exists) {
            return Err((0, "`all` has no meaning with `exists`".into()));
        }
        Ok(m)
    }
}

pub(crate) fn kind_name(k: Kind) -> &'static str {
    match k {
        Kind::Contains => "contains",
        Kind::StartsWith => "startswith",
        Kind::EndsWith => "endswith",
        Kind::Re => "re",
        Kind::Cidr => "cidr",
        Kind::Exists => "exists",
        Kind::Num(NumOp::Lt) => "lt",
        Kind::Num(NumOp::Lte) => "lte",
        Kind::Num(NumOp::Gt) => "gt",
        Kind::Num(NumOp::Gte) => "gte",
    }
}
