//! A wasmtime host for Pennon's raw wasm ABI (`wasm/README.md`, "Raw ABI"), used by the
//! conformance and ABI tests in `tests/` and the `pennon-wasm-differential` binary.
//!
//! [`RawModule`] loads `pennon_raw.wasm` (built by `wasm/build.sh`) and wraps each export
//! in a safe method that copies requests into the module's memory and reads the JSON
//! response back.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Mutex, OnceLock};

use wasmtime::{Config, Engine, Instance, Memory, Module, OptLevel, Store, TypedFunc, bail, format_err};

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

/// Compiles each module file once per process: tests instantiate the module many times,
/// and compiling it with a debug build of Cranelift takes seconds.
fn compiled(path: &Path) -> wasmtime::Result<(Engine, Module)> {
    static CACHE: OnceLock<Mutex<HashMap<PathBuf, (Engine, Module)>>> = OnceLock::new();
    let cache = CACHE.get_or_init(Mutex::default);
    let mut cache = cache.lock().map_err(|_| format_err!("module cache poisoned"))?;
    if let Some(entry) = cache.get(path) {
        return Ok(entry.clone());
    }
    let mut config = Config::new();
    // The module is small and runs briefly: compile it fast rather than well.
    config.cranelift_opt_level(OptLevel::None);
    let engine = Engine::new(&config)?;
    let module = Module::from_file(&engine, path)?;
    cache.insert(path.to_path_buf(), (engine.clone(), module.clone()));
    Ok((engine, module))
}

/// An instance of the raw module with typed handles on its exports.
pub struct RawModule {
    store: Store<()>,
    memory: Memory,
    alloc: TypedFunc<u32, u32>,
    free: TypedFunc<(u32, u32), u32>,
    result_ptr: TypedFunc<(), u32>,
    result_len: TypedFunc<(), u32>,
    engine_new: TypedFunc<(), u32>,
    engine_free: TypedFunc<u32, u32>,
    engine_load: TypedFunc<(u32, u32, u32), u32>,
    engine_info: TypedFunc<u32, u32>,
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

    /// Loads and instantiates the module at `path` (with no imports: it must need none).
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
        let mut store = Store::new(&engine, ());
        let instance = Instance::new(&mut store, &module, &[])?;
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

    /// How many imports the module declares (the raw module must declare none).
    pub fn import_count(&self) -> usize {
        self.imports
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
