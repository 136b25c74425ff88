//! The options of `#[checkpointed(...)]` and of `#[checkpoint(...)]` on a loop.

use syn::parse::{Parse, ParseStream};
use syn::punctuated::Punctuated;
use syn::{Ident, LitBool, LitInt, LitStr, Token, parenthesized};

mod kw {
    syn::custom_keyword!(every);
    syn::custom_keyword!(every_iters);
    syn::custom_keyword!(dir);
    syn::custom_keyword!(name);
    syn::custom_keyword!(key);
    syn::custom_keyword!(keep);
    syn::custom_keyword!(zstd_level);
    syn::custom_keyword!(compress);
    syn::custom_keyword!(keep_on_success);
    syn::custom_keyword!(on_code_change);
    syn::custom_keyword!(strict);
    syn::custom_keyword!(off);
    syn::custom_keyword!(save);
    syn::custom_keyword!(mtbf);
    syn::custom_keyword!(signals);
    syn::custom_keyword!(grace);
    syn::custom_keyword!(background);
    syn::custom_keyword!(expire);
}

/// The signals `signals = [...]` may name (with or without `SIG`).
const SIGNALS: [&str; 6] = [
    "SIGINT", "SIGTERM", "SIGUSR1", "SIGUSR2", "SIGHUP", "SIGXCPU",
];

/// `#[checkpointed(...)]`.
#[derive(Default)]
pub struct Args {
    pub every_ms: Option<u64>,
    /// `every = "auto"`.
    pub every_auto: bool,
    /// `mtbf = "..."`, with the span for an error if `every` is not `auto`.
    pub mtbf_ms: Option<(u64, proc_macro2::Span)>,
    /// `signals = ["SIGTERM", ...]`: normalized names.
    pub signals: Option<Vec<String>>,
    pub grace_ms: Option<u64>,
    pub background: Option<bool>,
    pub expire_ms: Option<u64>,
    pub every_iters: Option<u64>,
    pub dir: Option<LitStr>,
    pub name: Option<LitStr>,
    /// `key = (a, b)`: the arguments that identify a run (`self` for the
    /// receiver); `None` means all arguments but the receiver.
    pub key: Option<Vec<Ident>>,
    pub keep: Option<usize>,
    /// `Some(None)`: `compress = false`.
    pub zstd_level: Option<Option<i32>>,
    pub keep_on_success: bool,
    pub on_code_change: Option<Ident>,
    pub strict: bool,
}

impl Parse for Args {
    fn parse(input: ParseStream) -> syn::Result<Self> {
        let mut args = Args::default();
        let mut seen: Vec<String> = Vec::new();
        while !input.is_empty() {
            let lookahead = input.lookahead1();
            let option: Ident = if lookahead.peek(Ident) {
                input.fork().parse()?
            } else {
                return Err(lookahead.error());
            };
            let option_name = option.to_string();
            if seen.contains(&option_name) {
                return Err(syn::Error::new(
                    option.span(),
                    format!("duplicate option `{option_name}`"),
                ));
            }
            seen.push(option_name);
            let lookahead = input.lookahead1();
            if lookahead.peek(kw::every_iters) {
                input.parse::<kw::every_iters>()?;
                input.parse::<Token![=]>()?;
                let n: LitInt = input.parse()?;
                let value: u64 = n.base10_parse()?;
                if value == 0 {
                    return Err(syn::Error::new(
                        n.span(),
                        "`every_iters` must be at least 1",
                    ));
                }
                args.every_iters = Some(value);
            } else if lookahead.peek(kw::every) {
                input.parse::<kw::every>()?;
                input.parse::<Token![=]>()?;
                let text: LitStr = input.parse()?;
                if text.value().trim() == "auto" {
                    args.every_auto = true;
                } else {
                    args.every_ms = Some(parse_duration_ms(&text)?);
                }
            } else if lookahead.peek(kw::mtbf) {
                input.parse::<kw::mtbf>()?;
                input.parse::<Token![=]>()?;
                let text: LitStr = input.parse()?;
                args.mtbf_ms = Some((parse_duration_ms(&text)?, option.span()));
            } else if lookahead.peek(kw::grace) {
                input.parse::<kw::grace>()?;
                input.parse::<Token![=]>()?;
                args.grace_ms = Some(parse_duration_ms(&input.parse()?)?);
            } else if lookahead.peek(kw::expire) {
                input.parse::<kw::expire>()?;
                input.parse::<Token![=]>()?;
                args.expire_ms = Some(parse_duration_ms(&input.parse()?)?);
            } else if lookahead.peek(kw::background) {
                input.parse::<kw::background>()?;
                input.parse::<Token![=]>()?;
                args.background = Some(input.parse::<LitBool>()?.value);
            } else if lookahead.peek(kw::signals) {
                input.parse::<kw::signals>()?;
                input.parse::<Token![=]>()?;
                let content;
                syn::bracketed!(content in input);
                let names = Punctuated::<LitStr, Token![,]>::parse_terminated(&content)?;
                let mut signals = Vec::new();
                for name in names {
                    let upper = name.value().trim().to_ascii_uppercase();
                    let full = if upper.starts_with("SIG") {
                        upper
                    } else {
                        format!("SIG{upper}")
                    };
                    if !SIGNALS.contains(&full.as_str()) {
                        return Err(syn::Error::new(
                            name.span(),
                            format!(
                                "unknown signal \"{}\": expected some of {}",
                                name.value(),
                                SIGNALS.join(", ")
                            ),
                        ));
                    }
                    if !signals.contains(&full) {
                        signals.push(full);
                    }
                }
                args.signals = Some(signals);
            } else if lookahead.peek(kw::dir) {
                input.parse::<kw::dir>()?;
                input.parse::<Token![=]>()?;
                let dir: LitStr = input.parse()?;
                if dir.value().is_empty() {
                    return Err(syn::Error::new(dir.span(), "`dir` must not be empty"));
                }
                args.dir = Some(dir);
            } else if lookahead.peek(kw::name) {
                input.parse::<kw::name>()?;
                input.parse::<Token![=]>()?;
                let name: LitStr = input.parse()?;
                if name.value().trim().is_empty() {
                    return Err(syn::Error::new(name.span(), "`name` must not be empty"));
                }
                args.name = Some(name);
            } else if lookahead.peek(kw::key) {
                input.parse::<kw::key>()?;
                input.parse::<Token![=]>()?;
                let content;
                parenthesized!(content in input);
                let idents = Punctuated::<Ident, Token![,]>::parse_terminated_with(
                    &content,
                    parse_key_name,
                )?;
                args.key = Some(idents.into_iter().collect());
            } else if lookahead.peek(kw::keep) {
                input.parse::<kw::keep>()?;
                input.parse::<Token![=]>()?;
                let n: LitInt = input.parse()?;
                let value: usize = n.base10_parse()?;
                if value == 0 {
                    return Err(syn::Error::new(n.span(), "`keep` must be at least 1"));
                }
                args.keep = Some(value);
            } else if lookahead.peek(kw::zstd_level) {
                input.parse::<kw::zstd_level>()?;
                input.parse::<Token![=]>()?;
                let n: LitInt = input.parse()?;
                let value: i32 = n.base10_parse()?;
                if !(-7..=22).contains(&value) {
                    return Err(syn::Error::new(
                        n.span(),
                        "`zstd_level` must be between -7 and 22",
                    ));
                }
                args.zstd_level = Some(Some(value));
            } else if lookahead.peek(kw::compress) {
                input.parse::<kw::compress>()?;
                input.parse::<Token![=]>()?;
                let on: LitBool = input.parse()?;
                if !on.value {
                    args.zstd_level = Some(None);
                }
            } else if lookahead.peek(kw::keep_on_success) {
                input.parse::<kw::keep_on_success>()?;
                input.parse::<Token![=]>()?;
                args.keep_on_success = input.parse::<LitBool>()?.value;
            } else if lookahead.peek(kw::strict) {
                input.parse::<kw::strict>()?;
                input.parse::<Token![=]>()?;
                args.strict = input.parse::<LitBool>()?.value;
            } else if lookahead.peek(kw::on_code_change) {
                input.parse::<kw::on_code_change>()?;
                input.parse::<Token![=]>()?;
                let action: LitStr = input.parse()?;
                let variant = match action.value().as_str() {
                    "resume" => "Resume",
                    "restart" => "Restart",
                    "error" => "Error",
                    other => {
                        return Err(syn::Error::new(
                            action.span(),
                            format!(
                                "unknown `on_code_change` action \"{other}\": expected \"resume\", \"restart\" or \"error\""
                            ),
                        ));
                    }
                };
                args.on_code_change = Some(Ident::new(variant, action.span()));
            } else {
                return Err(syn::Error::new(
                    option.span(),
                    format!(
                        "unknown option `{option}`: expected one of every, every_iters, mtbf, dir, name, key, keep, zstd_level, compress, keep_on_success, on_code_change, strict, signals, grace, background, expire"
                    ),
                ));
            }
            if input.is_empty() {
                break;
            }
            input.parse::<Token![,]>()?;
        }
        if let Some((_, span)) = args.mtbf_ms
            && !args.every_auto
        {
            return Err(syn::Error::new(
                span,
                "`mtbf` sets the mean time between failures for `every = \"auto\"`; add `every = \"auto\"` or remove it",
            ));
        }
        Ok(args)
    }
}

/// One name of `key = (...)`: an argument, or `self` (the receiver).
fn parse_key_name(input: ParseStream) -> syn::Result<Ident> {
    if input.peek(Token![self]) {
        let token: Token![self] = input.parse()?;
        Ok(Ident::new("self", token.span))
    } else {
        input.parse()
    }
}

/// `#[checkpoint(...)]` on a loop.
#[derive(Default)]
pub struct LoopArgs {
    /// `off`: this loop is not a save point; on resume it runs again.
    pub off: bool,
    /// `save`: this loop is a save point even inside another one.
    pub save: bool,
}

impl Parse for LoopArgs {
    fn parse(input: ParseStream) -> syn::Result<Self> {
        let mut args = LoopArgs::default();
        while !input.is_empty() {
            let lookahead = input.lookahead1();
            if lookahead.peek(kw::off) {
                let off: kw::off = input.parse()?;
                if args.off {
                    return Err(syn::Error::new(off.span, "duplicate option `off`"));
                }
                args.off = true;
            } else if lookahead.peek(kw::save) {
                let save: kw::save = input.parse()?;
                if args.save {
                    return Err(syn::Error::new(save.span, "duplicate option `save`"));
                }
                args.save = true;
            } else if lookahead.peek(Ident) {
                let option: Ident = input.parse()?;
                return Err(syn::Error::new(
                    option.span(),
                    format!(
                        "unknown loop option `{option}`: expected `save` (an inner loop saves too) or `off` (this loop never saves)"
                    ),
                ));
            } else {
                return Err(lookahead.error());
            }
            if input.is_empty() {
                break;
            }
            input.parse::<Token![,]>()?;
        }
        Ok(args)
    }
}

/// Parses "250ms", "30s", "5m", "2h", "1d" (also "1h30m") into milliseconds.
pub fn parse_duration_ms(text: &LitStr) -> syn::Result<u64> {
    let value = text.value();
    let error = |why: &str| {
        syn::Error::new(
            text.span(),
            format!(
                "bad duration \"{value}\": {why} (examples: \"250ms\", \"30s\", \"5m\", \"2h\", \"1d\")"
            ),
        )
    };
    let mut rest = value.trim();
    if rest.is_empty() {
        return Err(error("it is empty"));
    }
    let mut total: u64 = 0;
    while !rest.is_empty() {
        let digits = rest.len() - rest.trim_start_matches(|c: char| c.is_ascii_digit()).len();
        if digits == 0 {
            return Err(error("expected a number"));
        }
        let number: u64 = rest[..digits]
            .parse()
            .map_err(|_| error("number too large"))?;
        rest = &rest[digits..];
        let unit_len = rest.len()
            - rest
                .trim_start_matches(|c: char| c.is_ascii_alphabetic())
                .len();
        let unit = &rest[..unit_len];
        rest = rest[unit_len..].trim_start();
        let scale: u64 = match unit {
            "ms" => 1,
            "s" => 1_000,
            "m" | "min" => 60_000,
            "h" => 3_600_000,
            "d" => 86_400_000,
            "" => return Err(error("a unit is missing")),
            _ => return Err(error(&format!("unknown unit `{unit}`"))),
        };
        total = number
            .checked_mul(scale)
            .and_then(|ms| total.checked_add(ms))
            .ok_or_else(|| error("too large"))?;
    }
    if total == 0 {
        return Err(error("it must be longer than zero"));
    }
    Ok(total)
}
