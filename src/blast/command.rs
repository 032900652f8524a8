//! Runbook commands built from values the log holds.
//!
//! Every value from the log is hostile. It becomes either the value of one flag
//! (`-namespace=<v>`, `-mount=<v>`: one shell word whatever it holds) or a positional argument
//! after `--`, where the CLI's flag parser stops (Vault and OpenBao parse flags with Go's `flag`
//! package, which ends at `--`): a secret named `-address=https://evil.example/x` is sent as a
//! path, never read as a flag. A value with a control character is refused: a newline would end
//! the command in a runbook script and start another one, even inside a `#` comment.

/// The program the commands name. OpenBao's `bao` takes the same arguments; runbooks for
/// OpenBao replace the first word (docs/rotation-list.md).
pub const CLI: &str = "vault";

/// Why a row has no command.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum Refusal {
    /// A value from the log holds a control character (newline, escape, NUL ...).
    #[error("the {what} from the log contains a control character")]
    ControlCharacter {
        /// Which value.
        what: &'static str,
    },
    /// A value that names something is empty.
    #[error("the {what} from the log is empty")]
    Empty {
        /// Which value.
        what: &'static str,
    },
    /// The request path does not start with the namespace and mount the log gave for it.
    #[error("the path does not start with its namespace and mount")]
    PathOutsideMount,
    /// An inventory path on a mount the log shows no secret read from: its engine is unknown.
    #[error("its engine is unknown (no read on its mount in the log)")]
    UnknownEngine,
}

/// One `vault` invocation: subcommand, flags, then `--` and the positional arguments.
#[derive(Clone, Debug)]
pub struct VaultCommand {
    subcommand: &'static str,
    flags: Vec<String>,
    args: Vec<String>,
    data: Vec<&'static str>,
}

impl VaultCommand {
    /// `vault <subcommand>` (`kv put`, `write`, `lease revoke` ...).
    pub fn new(subcommand: &'static str) -> VaultCommand {
        VaultCommand {
            subcommand,
            flags: Vec::new(),
            args: Vec::new(),
            data: Vec::new(),
        }
    }

    /// `-namespace=<ns>` when the namespace is not root.
    pub fn namespace(self, ns: Option<&str>) -> Result<VaultCommand, Refusal> {
        match ns.map(|n| n.trim_matches('/')).filter(|n| !n.is_empty()) {
            Some(n) => self.value_flag("namespace", n, "namespace"),
            None => Ok(self),
        }
    }

    /// `-<name>=<value>` with a value from the log: one shell word.
    pub fn value_flag(
        mut self,
        name: &'static str,
        value: &str,
        what: &'static str,
    ) -> Result<VaultCommand, Refusal> {
        checked(value, what)?;
        self.flags.push(format!("-{name}={}", sh(value)));
        Ok(self)
    }

    /// A flag of ours (`-f`, `-accessor`, `-prefix`).
    pub fn flag(mut self, flag: &'static str) -> VaultCommand {
        self.flags.push(flag.to_string());
        self
    }

    /// A positional argument from the log: after `--`, quoted for the shell.
    pub fn arg(mut self, value: &str, what: &'static str) -> Result<VaultCommand, Refusal> {
        checked(value, what)?;
        self.args.push(sh(value));
        Ok(self)
    }

    /// A positional argument of ours that stands for a value the log cannot know
    /// (`<CLEAR_ACCESSOR_OF ...>`), after `--`, as is.
    pub fn placeholder_arg(mut self, placeholder: String) -> VaultCommand {
        self.args.push(placeholder);
        self
    }

    /// A data argument of ours, after the positionals (`@<NEW_SECRET.json>`, `generate=true`).
    /// Never a value from the log: `key=@file` and `-` read files and standard input.
    pub fn data(mut self, data: &'static str) -> VaultCommand {
        self.data.push(data);
        self
    }

    /// The command line.
    pub fn render(&self) -> String {
        let mut words = vec![CLI.to_string(), self.subcommand.to_string()];
        words.extend(self.flags.iter().cloned());
        if !self.args.is_empty() {
            words.push("--".to_string());
            words.extend(self.args.iter().cloned());
        }
        words.extend(self.data.iter().map(|d| (*d).to_string()));
        words.join(" ")
    }
}

/// Commands to run one after the other (`a && b`).
pub fn chain(commands: &[VaultCommand]) -> String {
    commands
        .iter()
        .map(VaultCommand::render)
        .collect::<Vec<_>>()
        .join(" && ")
}

/// A `#` line for what no command can do; the value must still be free of control characters.
pub fn comment(text: &str, value: &str, what: &'static str) -> Result<String, Refusal> {
    checked(value, what)?;
    Ok(format!("# {}", text.replace("{}", &sh(value))))
}

/// Refuses values a runbook cannot carry.
pub fn checked<'a>(value: &'a str, what: &'static str) -> Result<&'a str, Refusal> {
    if value.is_empty() {
        return Err(Refusal::Empty { what });
    }
    if value.chars().any(char::is_control) {
        return Err(Refusal::ControlCharacter { what });
    }
    Ok(value)
}

/// Quotes a value for a POSIX shell when needed.
pub fn sh(s: &str) -> String {
    if !s.is_empty()
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"-_./:@=+,".contains(&b))
    {
        s.to_string()
    } else {
        format!("'{}'", s.replace('\'', r"'\''"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn log_values_go_after_the_terminator() {
        let c = VaultCommand::new("kv put")
            .namespace(Some("acme/"))
            .and_then(|c| c.value_flag("mount", "secret", "mount"))
            .and_then(|c| c.arg("-address=https:/evil.example/x", "secret name"))
            .map(|c| c.data("@<NEW_SECRET.json>"))
            .unwrap();
        assert_eq!(
            c.render(),
            "vault kv put -namespace=acme -mount=secret -- -address=https:/evil.example/x @<NEW_SECRET.json>"
        );
    }

    #[test]
    fn flag_values_stay_one_word() {
        let c = VaultCommand::new("write")
            .value_flag("mount", "a b;rm -rf /", "mount")
            .unwrap();
        assert_eq!(c.render(), "vault write -mount='a b;rm -rf /'");
    }

    #[test]
    fn control_characters_are_refused_everywhere() {
        let nl = "kv/x\nrm -rf /";
        assert_eq!(
            VaultCommand::new("write").arg(nl, "path").unwrap_err(),
            Refusal::ControlCharacter { what: "path" }
        );
        assert!(VaultCommand::new("write").namespace(Some(nl)).is_err());
        assert!(comment("rotate {}", nl, "path").is_err());
        assert!(VaultCommand::new("write").arg("", "path").is_err());
        assert!(
            VaultCommand::new("write")
                .arg("x\u{1b}[2J", "path")
                .is_err()
        );
    }

    #[test]
    fn root_namespace_adds_no_flag() {
        for ns in [None, Some(""), Some("/")] {
            let c = VaultCommand::new("lease revoke").namespace(ns).unwrap();
            assert_eq!(c.render(), "vault lease revoke");
        }
    }

    #[test]
    fn shell_quoting_is_safe() {
        assert_eq!(sh("kv/data/a"), "kv/data/a");
        assert_eq!(sh("a b'; rm -rf /"), "'a b'\\''; rm -rf /'");
    }
}
