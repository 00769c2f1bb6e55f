//! A wasmtime host for Pennon's raw wasm ABI (`wasm/README.md`, "Raw ABI"), used by the
//! conformance and ABI tests in `tests/` and the `pennon-wasm-differential` binary.
//!
//! [`RawModule`] loads `pennon_raw.wasm` (built by `wasm/build.sh`) and wraps each export
//! in a safe method that copies requests into the module's memory and reads the JSON
//! response back. It provides the module's `pennon_regex` imports by instantiating the
//! regex module `pennon_regex.wasm` (next to the raw module) in the same store the first
//! time a pattern is compiled, and copying bytes between the two memories.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Mutex, OnceLock};

use wasmtime::{
    AsContextMut, Caller, Config, Engine, Instance, Linker, Memory, Module, OptLevel, Store, TypedFunc, bail,
    format_err,
};

/// The environment variable that overrides [`RawModule::default_path`].
pub const MODULE_ENV: &str = "PENNON_RAW_WASM";

/// One response: the status (0 = success, otherwise `1 + ` the code's index in core's
/// `ErrorCode::ALL`) and the JSON text the module left in its result buffer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Response {
    /// 0 on success.
    pub status: u32,
    /// The response JSON (the error object when `status != 0`).
    pub body: String,
}

impl Response {
    /// The body parsed as JSON.
    pub fn json(&self) -> wasmtime::Result<serde_json::Value> {
        serde_json::from_str(&self.body).map_err(|e| format_err!("response is not JSON ({e}): {}", self.body))
    }
}

/// Compiles each module file once per process, with one engine (so that the raw and the
/// regex module can share a store): tests instantiate the module many times, and
/// compiling it with a debug build of Cranelift takes seconds.
fn compiled(path: &Path) -> wasmtime::Result<(Engine, Module)> {
    static ENGINE: OnceLock<wasmtime::Result<Engine>> = OnceLock::new();
    static CACHE: OnceLock<Mutex<HashMap<PathBuf, Module>>> = OnceLock::new();
    let engine = ENGINE
        .get_or_init(|| {
            let mut config = Config::new();
            // The modules are small and run briefly: compile them fast rather than well.
            config.cranelift_opt_level(OptLevel::None);
            Engine::new(&config)
        })
        .as_ref()
        .map_err(|e| format_err!("cannot create the wasmtime engine: {e}"))?;
    let cache = CACHE.get_or_init(Mutex::default);
    let mut cache = cache.lock().map_err(|_| format_err!("module cache poisoned"))?;
    if let Some(module) = cache.get(path) {
        return Ok((engine.clone(), module.clone()));
    }
    let module = Module::from_file(engine, path)?;
    cache.insert(path.to_path_buf(), module.clone());
    Ok((engine.clone(), module))
}

/// The regex module's exports, once instantiated.
struct RegexExports {
    memory: Memory,
    input: TypedFunc<u32, u32>,
    compile: TypedFunc<u32, u32>,
    is_match: TypedFunc<(u32, u32), u32>,
    drop: TypedFunc<u32, ()>,
    output_ptr: TypedFunc<(), u32>,
    output_len: TypedFunc<(), u32>,
}

/// What the `pennon_regex` imports need: where the regex module is, its instance once
/// loaded, and the reason of the last failed compile.
struct RegexHost {
    path: PathBuf,
    exports: Option<RegexExports>,
    reason: Vec<u8>,
}

/// The bytes `[ptr, ptr + len)` of the calling module's memory.
fn caller_bytes(caller: &mut Caller<'_, RegexHost>, ptr: u32, len: u32) -> wasmtime::Result<Vec<u8>> {
    let memory = caller_memory(caller)?;
    let (start, len) = (ptr as usize, len as usize);
    let end = start.checked_add(len).ok_or_else(|| format_err!("span overflows"))?;
    let bytes =
        memory.data(&caller).get(start..end).ok_or_else(|| format_err!("[{start}, {end}) is outside memory"))?;
    Ok(bytes.to_vec())
}

fn caller_memory(caller: &mut Caller<'_, RegexHost>) -> wasmtime::Result<Memory> {
    caller
        .get_export("memory")
        .and_then(|export| export.into_memory())
        .ok_or_else(|| format_err!("the raw module exports no memory"))
}

/// The regex module's exports, instantiating it in the caller's store on first use.
fn regex_exports<'a>(caller: &'a mut Caller<'_, RegexHost>) -> wasmtime::Result<&'a RegexExports> {
    if caller.data().exports.is_none() {
        let path = caller.data().path.clone();
        if !path.is_file() {
            bail!("the regex module {} is missing: build it with wasm/build.sh", path.display());
        }
        let (_, module) = compiled(&path)?;
        let instance = Instance::new(caller.as_context_mut(), &module, &[])?;
        let mut store = caller.as_context_mut();
        let memory = instance
            .get_memory(&mut store, "memory")
            .ok_or_else(|| format_err!("the regex module exports no memory"))?;
        let exports = RegexExports {
            memory,
            input: instance.get_typed_func(&mut store, "pennon_regex_input")?,
            compile: instance.get_typed_func(&mut store, "pennon_regex_compile")?,
            is_match: instance.get_typed_func(&mut store, "pennon_regex_is_match")?,
            drop: instance.get_typed_func(&mut store, "pennon_regex_drop")?,
            output_ptr: instance.get_typed_func(&mut store, "pennon_regex_output_ptr")?,
            output_len: instance.get_typed_func(&mut store, "pennon_regex_output_len")?,
        };
        let version: TypedFunc<(), u32> = instance.get_typed_func(&mut store, "pennon_regex_abi_version")?;
        if version.call(&mut store, ())? != 1 {
            bail!("the regex module has an unknown ABI version");
        }
        caller.data_mut().exports = Some(exports);
    }
    caller.data().exports.as_ref().ok_or_else(|| format_err!("the regex module is not loaded"))
}

/// Copies `[ptr, ptr + len)` of the raw module into the regex module's input buffer.
fn put_regex_input(caller: &mut Caller<'_, RegexHost>, ptr: u32, len: u32) -> wasmtime::Result<()> {
    let bytes = caller_bytes(caller, ptr, len)?;
    let (input, memory) = {
        let exports = regex_exports(caller)?;
        (exports.input.clone(), exports.memory)
    };
    let at = input.call(&mut *caller, len)?;
    if at == 0 && len > 0 {
        bail!("the regex module is out of memory");
    }
    memory.write(&mut *caller, at as usize, &bytes).map_err(|e| format_err!("regex input: {e}"))
}

/// The `pennon_regex` imports of the raw module (`wasm/README.md`, "Raw ABI").
fn regex_linker(engine: &Engine) -> wasmtime::Result<Linker<RegexHost>> {
    let mut linker = Linker::new(engine);
    linker.func_wrap(
        "pennon_regex",
        "pennon_regex_compile",
        |mut caller: Caller<'_, RegexHost>, ptr: u32, len: u32| -> wasmtime::Result<i32> {
            put_regex_input(&mut caller, ptr, len)?;
            let exports = regex_exports(&mut caller)?;
            let (compile, output_ptr, output_len, memory) =
                (exports.compile.clone(), exports.output_ptr.clone(), exports.output_len.clone(), exports.memory);
            let handle = compile.call(&mut caller, len)?;
            if handle != 0 {
                return i32::try_from(handle).map_err(|_| format_err!("regex handle {handle} out of range"));
            }
            let (at, n) = (output_ptr.call(&mut caller, ())? as usize, output_len.call(&mut caller, ())? as usize);
            let reason = memory
                .data(&caller)
                .get(at..at.saturating_add(n))
                .ok_or_else(|| format_err!("regex output is outside memory"))?
                .to_vec();
            let len = i32::try_from(reason.len())?;
            caller.data_mut().reason = reason;
            Ok(-len)
        },
    )?;
    linker.func_wrap(
        "pennon_regex",
        "pennon_regex_error",
        |mut caller: Caller<'_, RegexHost>, ptr: u32, len: u32| -> wasmtime::Result<()> {
            let memory = caller_memory(&mut caller)?;
            let reason = std::mem::take(&mut caller.data_mut().reason);
            let n = reason.len().min(len as usize);
            let bytes = reason.get(..n).unwrap_or_default();
            memory.write(&mut caller, ptr as usize, bytes).map_err(|e| format_err!("regex error: {e}"))
        },
    )?;
    linker.func_wrap(
        "pennon_regex",
        "pennon_regex_is_match",
        |mut caller: Caller<'_, RegexHost>, handle: u32, ptr: u32, len: u32| -> wasmtime::Result<u32> {
            put_regex_input(&mut caller, ptr, len)?;
            let is_match = regex_exports(&mut caller)?.is_match.clone();
            is_match.call(&mut caller, (handle, len))
        },
    )?;
    linker.func_wrap(
        "pennon_regex",
        "pennon_regex_free",
        |mut caller: Caller<'_, RegexHost>, handle: u32| -> wasmtime::Result<()> {
            match caller.data().exports.as_ref().map(|exports| exports.drop.clone()) {
                Some(drop) => drop.call(&mut caller, handle),
                None => Ok(()),
            }
        },
    )?;
    Ok(linker)
}

/// An instance of the raw module with typed handles on its exports.
pub struct RawModule {
    store: Store<RegexHost>,
    memory: Memory,
    alloc: TypedFunc<u32, u32>,
    free: TypedFunc<(u32, u32), u32>,
    result_ptr: TypedFunc<(), u32>,
    result_len: TypedFunc<(), u32>,
    engine_new: TypedFunc<(), u32>,
    engine_free: TypedFunc<u32, u32>,
    engine_load: TypedFunc<(u32, u32, u32), u32>,
    engine_info: TypedFunc<u32, u32>,
    engine_changed_flags: TypedFunc<(u32, u32), u32>,
    engine_evaluate: TypedFunc<(u32, u32, u32), u32>,
    engine_evaluate_all: TypedFunc<(u32, u32, u32), u32>,
    bucket: TypedFunc<(u32, u32), u32>,
    error_codes: TypedFunc<(), u32>,
    abi_version: TypedFunc<(), u32>,
    imports: usize,
}

impl RawModule {
    /// `wasm/dist/raw/pennon_raw.wasm`, or the path in `$PENNON_RAW_WASM`.
    pub fn default_path() -> PathBuf {
        match std::env::var_os(MODULE_ENV) {
            Some(path) => PathBuf::from(path),
            None => Path::new(env!("CARGO_MANIFEST_DIR")).join("../dist/raw/pennon_raw.wasm"),
        }
    }

    /// Loads and instantiates the module at `path`, with its `pennon_regex` imports served by
    /// `pennon_regex.wasm` from the same directory (instantiated on the first pattern).
    pub fn load(path: &Path) -> wasmtime::Result<RawModule> {
        if !path.is_file() {
            bail!(
                "the raw wasm module {} is missing: build it with wasm/build.sh (or wasm/test.sh), \
                 or point ${MODULE_ENV} at it",
                path.display()
            );
        }
        let (engine, module) = compiled(path)?;
        let imports = module.imports().count();
        let regex = RegexHost { path: path.with_file_name("pennon_regex.wasm"), exports: None, reason: Vec::new() };
        let mut store = Store::new(&engine, regex);
        let instance = regex_linker(&engine)?.instantiate(&mut store, &module)?;
        let memory =
            instance.get_memory(&mut store, "memory").ok_or_else(|| format_err!("the module exports no memory"))?;
        macro_rules! func {
            ($name:literal) => {
                instance.get_typed_func(&mut store, $name)?
            };
        }
        Ok(RawModule {
            memory,
            alloc: func!("pennon_alloc"),
            free: func!("pennon_free"),
            result_ptr: func!("pennon_result_ptr"),
            result_len: func!("pennon_result_len"),
            engine_new: func!("pennon_engine_new"),
            engine_free: func!("pennon_engine_free"),
            engine_load: func!("pennon_engine_load"),
            engine_info: func!("pennon_engine_info"),
            engine_changed_flags: func!("pennon_engine_changed_flags"),
            engine_evaluate: func!("pennon_engine_evaluate"),
            engine_evaluate_all: func!("pennon_engine_evaluate_all"),
            bucket: func!("pennon_bucket"),
            error_codes: func!("pennon_error_codes"),
            abi_version: func!("pennon_abi_version"),
            imports,
            store,
        })
    }

    /// Loads the module at [`RawModule::default_path`].
    pub fn load_default() -> wasmtime::Result<RawModule> {
        RawModule::load(&RawModule::default_path())
    }

    /// How many imports the module declares (the four `pennon_regex` functions).
    pub fn import_count(&self) -> usize {
        self.imports
    }

    /// Whether the regex module has been instantiated (by the first `matches` pattern).
    pub fn regex_loaded(&self) -> bool {
        self.store.data().exports.is_some()
    }

    /// The size of the module's linear memory in bytes.
    pub fn memory_size(&self) -> usize {
        self.memory.data_size(&self.store)
    }

    /// `pennon_abi_version()`.
    pub fn abi_version(&mut self) -> wasmtime::Result<u32> {
        self.abi_version.call(&mut self.store, ())
    }

    /// `pennon_alloc(len)`: 0 on failure.
    pub fn alloc(&mut self, len: u32) -> wasmtime::Result<u32> {
        self.alloc.call(&mut self.store, len)
    }

    /// `pennon_free(ptr, len)` and the response.
    pub fn free(&mut self, ptr: u32, len: u32) -> wasmtime::Result<Response> {
        let status = self.free.call(&mut self.store, (ptr, len))?;
        self.response(status)
    }

    /// Writes `bytes` at `ptr` in the module's memory.
    pub fn write(&mut self, ptr: u32, bytes: &[u8]) -> wasmtime::Result<()> {
        self.memory.write(&mut self.store, ptr as usize, bytes).map_err(|e| format_err!("write at {ptr}: {e}"))
    }

    /// Copies `bytes` into a fresh module buffer and returns `(ptr, len)`.
    pub fn put(&mut self, bytes: &[u8]) -> wasmtime::Result<(u32, u32)> {
        let len = u32::try_from(bytes.len())?;
        if len == 0 {
            return Ok((0, 0));
        }
        let ptr = self.alloc(len)?;
        if ptr == 0 {
            bail!("pennon_alloc({len}) failed");
        }
        self.write(ptr, bytes)?;
        Ok((ptr, len))
    }

    /// The response of the last call, with `status`.
    fn response(&mut self, status: u32) -> wasmtime::Result<Response> {
        let ptr = self.result_ptr.call(&mut self.store, ())? as usize;
        let len = self.result_len.call(&mut self.store, ())? as usize;
        let bytes = self
            .memory
            .data(&self.store)
            .get(ptr..ptr.saturating_add(len))
            .ok_or_else(|| format_err!("result [{ptr}, {ptr}+{len}) is outside memory"))?;
        let body = String::from_utf8(bytes.to_vec())?;
        Ok(Response { status, body })
    }

    /// Runs `call` with `input` copied into the module, then frees the input.
    fn with_input(
        &mut self,
        input: &[u8],
        call: impl FnOnce(&mut Self, u32, u32) -> wasmtime::Result<u32>,
    ) -> wasmtime::Result<Response> {
        let (ptr, len) = self.put(input)?;
        let status = call(self, ptr, len)?;
        let response = self.response(status)?;
        let freed = self.free.call(&mut self.store, (ptr, len))?;
        if freed != 0 {
            bail!("pennon_free({ptr}, {len}) failed with status {freed}");
        }
        Ok(response)
    }

    /// `pennon_engine_new()`: a handle, 0 on failure.
    pub fn engine_new(&mut self) -> wasmtime::Result<u32> {
        self.engine_new.call(&mut self.store, ())
    }

    /// `pennon_engine_free(handle)`.
    pub fn engine_free(&mut self, handle: u32) -> wasmtime::Result<Response> {
        let status = self.engine_free.call(&mut self.store, handle)?;
        self.response(status)
    }

    /// `pennon_engine_load(handle, snapshot)`.
    pub fn engine_load(&mut self, handle: u32, snapshot: &[u8]) -> wasmtime::Result<Response> {
        self.with_input(snapshot, |m, ptr, len| m.engine_load.call(&mut m.store, (handle, ptr, len)))
    }

    /// `pennon_engine_load` with a pointer and length of the caller's choosing.
    pub fn engine_load_at(&mut self, handle: u32, ptr: u32, len: u32) -> wasmtime::Result<Response> {
        let status = self.engine_load.call(&mut self.store, (handle, ptr, len))?;
        self.response(status)
    }

    /// `pennon_engine_info(handle)`.
    pub fn engine_info(&mut self, handle: u32) -> wasmtime::Result<Response> {
        let status = self.engine_info.call(&mut self.store, handle)?;
        self.response(status)
    }

    /// `pennon_engine_changed_flags(handle, previous)`.
    pub fn engine_changed_flags(&mut self, handle: u32, previous: u32) -> wasmtime::Result<Response> {
        let status = self.engine_changed_flags.call(&mut self.store, (handle, previous))?;
        self.response(status)
    }

    /// `pennon_engine_evaluate(handle, request)`.
    pub fn engine_evaluate(&mut self, handle: u32, request: &[u8]) -> wasmtime::Result<Response> {
        self.with_input(request, |m, ptr, len| m.engine_evaluate.call(&mut m.store, (handle, ptr, len)))
    }

    /// `pennon_engine_evaluate` with a pointer and length of the caller's choosing.
    pub fn engine_evaluate_at(&mut self, handle: u32, ptr: u32, len: u32) -> wasmtime::Result<Response> {
        let status = self.engine_evaluate.call(&mut self.store, (handle, ptr, len))?;
        self.response(status)
    }

    /// `pennon_engine_evaluate_all(handle, request)`.
    pub fn engine_evaluate_all(&mut self, handle: u32, request: &[u8]) -> wasmtime::Result<Response> {
        self.with_input(request, |m, ptr, len| m.engine_evaluate_all.call(&mut m.store, (handle, ptr, len)))
    }

    /// `pennon_bucket(request)`.
    pub fn bucket(&mut self, request: &[u8]) -> wasmtime::Result<Response> {
        self.with_input(request, |m, ptr, len| m.bucket.call(&mut m.store, (ptr, len)))
    }

    /// `pennon_bucket` with a pointer and length of the caller's choosing.
    pub fn bucket_at(&mut self, ptr: u32, len: u32) -> wasmtime::Result<Response> {
        let status = self.bucket.call(&mut self.store, (ptr, len))?;
        self.response(status)
    }

    /// `pennon_error_codes()`: the codes in status order.
    pub fn error_codes(&mut self) -> wasmtime::Result<Vec<String>> {
        let status = self.error_codes.call(&mut self.store, ())?;
        let response = self.response(status)?;
        if status != 0 {
            bail!("pennon_error_codes failed: {}", response.body);
        }
        Ok(serde_json::from_str(&response.body)?)
    }
}

/// A loaded engine in a [`RawModule`] with a convenient, JSON-valued interface.
pub struct RawEngine {
    handle: u32,
}

impl RawEngine {
    /// Creates an engine in `module`.
    pub fn new(module: &mut RawModule) -> wasmtime::Result<RawEngine> {
        match module.engine_new()? {
            0 => bail!("pennon_engine_new failed"),
            handle => Ok(RawEngine { handle }),
        }
    }

    /// The engine's handle.
    pub fn handle(&self) -> u32 {
        self.handle
    }

    /// Loads a snapshot; the response is `{"revision","warnings"}` or the error.
    pub fn load(&self, module: &mut RawModule, snapshot: &[u8]) -> wasmtime::Result<Response> {
        module.engine_load(self.handle, snapshot)
    }

    /// Evaluates a request object; fails unless the status is 0.
    pub fn evaluate(&self, module: &mut RawModule, request: &serde_json::Value) -> wasmtime::Result<Response> {
        let response = module.engine_evaluate(self.handle, request.to_string().as_bytes())?;
        if response.status != 0 {
            bail!("evaluate {request} failed with status {}: {}", response.status, response.body);
        }
        Ok(response)
    }
}
