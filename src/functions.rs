//! Function libraries (FUNCTION LOAD), kept as Redis 7.0 keeps them: each
//! library's code — what RDB files, AOF rewrites and FUNCTION DUMP carry —
//! and what its functions declared. Their compiled callbacks live in the
//! functions' Lua interpreter (`crate::function_lua`).

use crate::engine::Engine;
use crate::scripting::ScriptFlags;
use std::collections::{BTreeMap, HashMap, HashSet};
use std::time::Duration;

/// How long FUNCTION LOAD lets a library's code run (Redis's
/// LOAD_TIMEOUT_MS); loads from the AOF, an RDB file or RESTORE have none.
pub const LOAD_TIMEOUT: Duration = Duration::from_millis(500);

const BAD_NAME: &str =
    "Library names can only contain letters, numbers, or underscores(_) and must be at least one character long";

/// What `redis.register_function` declared.
#[derive(Clone, Debug, PartialEq)]
pub struct FunctionInfo {
    pub name: String,
    pub description: Option<Vec<u8>>,
    pub flags: ScriptFlags,
}

#[derive(Clone, Debug, PartialEq)]
pub struct Library {
    pub name: String,
    /// The whole code as loaded, shebang included.
    pub code: Vec<u8>,
    pub functions: Vec<FunctionInfo>,
}

impl Library {
    /// The code the engine runs: what follows the shebang line (its
    /// newline kept, so line numbers stay the user's).
    pub fn body(&self) -> &[u8] {
        let start = self.code.iter().position(|&b| b == b'\n').unwrap_or(self.code.len());
        &self.code[start..]
    }
}

/// The libraries, by name, and which library holds each function (by its
/// name in lowercase: FCALL finds functions in any letter case, as Redis).
#[derive(Default)]
pub struct Libraries {
    libraries: BTreeMap<String, Library>,
    functions: HashMap<String, String>,
}

/// Redis's functionsVerifyName: `[A-Za-z0-9_]+`.
pub fn valid_name(name: &str) -> bool {
    !name.is_empty() && name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_')
}

/// A library's shebang (`#!lua name=<lib>`): its name, and where the code
/// the engine runs starts (the newline is kept, so line numbers stay the
/// user's).
fn metadata(code: &[u8]) -> Result<(String, usize), String> {
    if !code.starts_with(b"#!") {
        return Err("Missing library metadata".into());
    }
    // Redis looks for the newline with strchr: a NUL byte ends the search.
    let Some(end) = code.iter().position(|&b| b == b'\n' || b == 0).filter(|&i| code[i] == b'\n') else {
        return Err("Invalid library metadata".into());
    };
    let line = String::from_utf8_lossy(&code[..end]);
    let parts = crate::config::split_config_line(&line).map_err(|_| "Invalid library metadata".to_string())?;
    let Some(engine) = parts.first() else { return Err("Invalid library metadata".into()) };
    let mut name = None;
    for part in &parts[1..] {
        match part.get(..5) {
            Some(prefix) if prefix.eq_ignore_ascii_case("name=") => {
                if name.is_some() {
                    return Err("Invalid metadata value, name argument was given multiple times".into());
                }
                name = Some(part[5..].to_string());
            }
            _ => return Err(format!("Invalid metadata value given: {part}")),
        }
    }
    let name = name.ok_or("Library name was not given")?;
    if !valid_name(&name) {
        return Err(BAD_NAME.into());
    }
    let engine = &engine[2..];
    if !engine.eq_ignore_ascii_case("lua") {
        return Err(format!("Engine '{engine}' not found"));
    }
    Ok((name, end))
}

impl Libraries {
    /// The function `name`, in any letter case.
    pub fn function(&self, name: &[u8]) -> Option<&FunctionInfo> {
        let library = self.library_of(name)?;
        library.functions.iter().find(|f| f.name.as_bytes().eq_ignore_ascii_case(name))
    }

    /// The library that registered the function `name` (any letter case).
    pub fn library_of(&self, name: &[u8]) -> Option<&Library> {
        let library = self.functions.get(&std::str::from_utf8(name).ok()?.to_ascii_lowercase())?;
        self.libraries.get(library)
    }

    pub fn libraries(&self) -> impl Iterator<Item = &Library> {
        self.libraries.values()
    }

    pub fn get(&self, name: &[u8]) -> Option<&Library> {
        self.libraries.get(std::str::from_utf8(name).ok()?)
    }

    pub fn library_count(&self) -> usize {
        self.libraries.len()
    }

    pub fn function_count(&self) -> usize {
        self.functions.len()
    }

    /// The bytes the libraries' code and names take.
    pub fn memory(&self) -> usize {
        let names: usize = self.functions.iter().map(|(f, l)| f.len() + l.len()).sum();
        names + self.libraries.values().map(|l| l.name.len() + l.code.len()).sum::<usize>()
    }

    fn link(&mut self, library: Library) {
        for f in &library.functions {
            self.functions.insert(f.name.to_ascii_lowercase(), library.name.clone());
        }
        self.libraries.insert(library.name.clone(), library);
    }

    fn unlink(&mut self, name: &str) -> Option<Library> {
        let library = self.libraries.remove(name)?;
        for f in &library.functions {
            self.functions.remove(&f.name.to_ascii_lowercase());
        }
        crate::function_lua::forget(&library.functions);
        Some(library)
    }

    /// FUNCTION DELETE: false when there is no such library.
    pub fn delete(&mut self, name: &[u8]) -> bool {
        std::str::from_utf8(name).ok().and_then(|n| self.unlink(n)).is_some()
    }

    /// FUNCTION FLUSH, and the FLUSH policy of FUNCTION RESTORE.
    pub fn replace_all(&mut self, with: Libraries) {
        *self = with;
        crate::function_lua::reset();
    }

    /// Redis's functionsCreateWithLibraryCtx: checks `code`'s metadata,
    /// runs it (through `run`, which returns what it registered) and adds
    /// the library, replacing one of the same name if `replace`. Ok is the
    /// library's name and what `run` returned.
    fn create<T>(
        &mut self,
        code: &[u8],
        replace: bool,
        run: impl FnOnce(&[u8]) -> Result<Vec<(FunctionInfo, T)>, String>,
    ) -> Result<(String, Vec<(FunctionInfo, T)>), String> {
        let (name, body_start) = metadata(code)?;
        if self.libraries.contains_key(&name) && !replace {
            return Err(format!("Library '{name}' already exists"));
        }
        let old = self.unlink(&name);
        let checked = run(&code[body_start..]).and_then(|registered| {
            if registered.is_empty() {
                return Err("No functions registered".to_string());
            }
            match registered.iter().find(|(f, _)| self.functions.contains_key(&f.name.to_ascii_lowercase())) {
                Some((f, _)) => Err(format!("Function {} already exists", f.name)),
                None => Ok(registered),
            }
        });
        match checked {
            Ok(registered) => {
                let functions = registered.iter().map(|(f, _)| f.clone()).collect();
                self.link(Library { name: name.clone(), code: code.to_vec(), functions });
                Ok((name, registered))
            }
            Err(err) => {
                if let Some(old) = old {
                    self.link(old);
                }
                Err(err)
            }
        }
    }

    /// Redis's libraryJoin (FUNCTION RESTORE APPEND or REPLACE): adds all
    /// of `other`'s libraries or, on a name collision, none.
    pub fn join(&mut self, other: Libraries, replace: bool) -> Result<(), String> {
        if let Some(name) = other.libraries.keys().find(|n| self.libraries.contains_key(*n)) {
            if !replace {
                return Err(format!("Library {name} already exists"));
            }
        }
        // The functions of the libraries being replaced may be registered again.
        let lower = |f: &FunctionInfo| f.name.to_ascii_lowercase();
        let replaced: HashSet<String> = (other.libraries.keys())
            .filter_map(|name| self.libraries.get(name))
            .flat_map(|library| library.functions.iter().map(lower))
            .collect();
        let clash = (other.libraries.values().flat_map(|l| l.functions.iter()))
            .find(|f| self.functions.contains_key(&lower(f)) && !replaced.contains(&lower(f)));
        if let Some(f) = clash {
            return Err(format!("Function {} already exists", f.name));
        }
        for (name, library) in other.libraries {
            self.unlink(&name);
            self.link(library);
        }
        Ok(())
    }
}

/// FUNCTION LOAD (and the loading of a library from an RDB file or a
/// payload): runs `code` in the functions' interpreter and adds the library
/// to `into` (the engine's own when None). Ok is the library's name.
pub fn load(
    e: &mut Engine,
    into: Option<&mut Libraries>,
    code: &[u8],
    replace: bool,
    timeout: Option<Duration>,
) -> Result<String, String> {
    let log_level = crate::scripting::log_level(e);
    let mut logs = Vec::new();
    let live = into.is_none();
    let target = match into {
        Some(libraries) => libraries,
        None => &mut e.functions,
    };
    let created = target.create(code, replace, |body| {
        let (result, lines) = crate::function_lua::compile(body, log_level, timeout);
        logs = lines;
        result
    });
    crate::scripting::warn_logged(e, logs);
    let (name, registered) = created?;
    if live {
        crate::function_lua::install(registered);
    }
    Ok(name)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn metadata_follows_redis_rules() {
        assert_eq!(metadata(b"#!lua name=mylib\nreturn").unwrap(), ("mylib".to_string(), 16));
        assert_eq!(metadata(b"#!LUA NAME=x\n").unwrap().0, "x");
        assert_eq!(metadata(b"return 1").unwrap_err(), "Missing library metadata");
        assert_eq!(metadata(b"#!lua name=x").unwrap_err(), "Invalid library metadata");
        assert_eq!(metadata(b"#!lua name=x\0y\n").unwrap_err(), "Invalid library metadata");
        assert_eq!(metadata(b"#!lua\n").unwrap_err(), "Library name was not given");
        assert_eq!(metadata(b"#!lua foo=bar\n").unwrap_err(), "Invalid metadata value given: foo=bar");
        assert_eq!(
            metadata(b"#!lua name=a name=b\n").unwrap_err(),
            "Invalid metadata value, name argument was given multiple times"
        );
        assert_eq!(metadata(b"#!lua name=a-b\n").unwrap_err(), BAD_NAME);
        assert_eq!(metadata(b"#!py name=ab\n").unwrap_err(), "Engine 'py' not found");
    }

    fn info(name: &str) -> FunctionInfo {
        FunctionInfo { name: name.into(), description: None, flags: ScriptFlags::default() }
    }

    fn registering(names: &'static [&'static str]) -> impl FnOnce(&[u8]) -> Result<Vec<(FunctionInfo, ())>, String> {
        move |_| Ok(names.iter().map(|n| (info(n), ())).collect())
    }

    #[test]
    fn create_replaces_and_restores_on_failure() {
        let mut libs = Libraries::default();
        libs.create(b"#!lua name=a\n", false, registering(&["f1"])).unwrap();
        assert_eq!(
            libs.create(b"#!lua name=a\n", false, registering(&["f2"])).unwrap_err(),
            "Library 'a' already exists"
        );
        assert_eq!(
            libs.create(b"#!lua name=b\n", false, registering(&["F1"])).unwrap_err(),
            "Function F1 already exists"
        );
        assert_eq!(libs.function(b"F1").unwrap().name, "f1");
        assert_eq!(libs.create(b"#!lua name=a\n", true, registering(&[])).unwrap_err(), "No functions registered");
        assert!(libs.function(b"f1").is_some());
        libs.create(b"#!lua name=a\n", true, registering(&["f2"])).unwrap();
        assert!(libs.function(b"f1").is_none() && libs.function(b"f2").is_some());
        assert_eq!((libs.library_count(), libs.function_count()), (1, 1));
    }

    #[test]
    fn join_is_all_or_nothing() {
        let mut libs = Libraries::default();
        libs.create(b"#!lua name=a\n", false, registering(&["f1"])).unwrap();
        libs.create(b"#!lua name=b\n", false, registering(&["f2"])).unwrap();
        let restored = || {
            let mut other = Libraries::default();
            other.create(b"#!lua name=a\n", false, registering(&["f1", "f3"])).unwrap();
            other
        };
        assert_eq!(libs.join(restored(), false).unwrap_err(), "Library a already exists");
        libs.join(restored(), true).unwrap();
        assert_eq!(libs.library_of(b"f3").unwrap().name, "a");
        let mut clash = Libraries::default();
        clash.create(b"#!lua name=c\n", false, registering(&["f2"])).unwrap();
        assert_eq!(libs.join(clash, true).unwrap_err(), "Function f2 already exists");
        assert!(libs.get(b"c").is_none());
    }
}
