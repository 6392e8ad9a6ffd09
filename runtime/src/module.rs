//! A compiled module: its descriptor, decoded [`ModuleInfo`], canonical type ids and code
//! registration. Cheap to clone; shared by all its instances.

use crate::error::Error;
use crate::layout::{
    ExportKind, FuncEntry, ImportEntry, ModuleDescriptor, ModuleInfo, VMOffsets, ABI_VERSION,
    DESCRIPTOR_MAGIC,
};
use crate::loader::{self, LoadedCode};
use crate::traps::registry::{self, CodeMap, Registration};
use crate::values::intern_func_type;
use std::collections::HashMap;
use std::sync::Arc;

pub(crate) struct ModuleInner {
    pub(crate) info: Arc<ModuleInfo>,
    pub(crate) offsets: VMOffsets,
    /// Canonical id of each module type.
    pub(crate) type_ids: Vec<u32>,
    /// Escaping slot of each function index (`u32::MAX` when it has none).
    pub(crate) func_slot: Vec<u32>,
    pub(crate) funcs: Vec<FuncEntry>,
    pub(crate) imports: Vec<ImportEntry>,
    pub(crate) exports: HashMap<String, ExportKind>,
    pub(crate) descriptor: usize,
    _registration: Registration,
    /// Keeps a loaded object mapped (declared after the registration so it is dropped last).
    _code: Option<Arc<LoadedCode>>,
}

// SAFETY: the raw code pointers refer to immutable code/data that lives as long as the module.
unsafe impl Send for ModuleInner {}
// SAFETY: as above; nothing is mutated after construction.
unsafe impl Sync for ModuleInner {}

/// A compiled module, ready to be instantiated any number of times.
#[derive(Clone)]
pub struct Module(pub(crate) Arc<ModuleInner>);

impl std::fmt::Debug for Module {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Module({})", self.0.info.name)
    }
}

impl Module {
    /// Wraps a descriptor of a statically linked object (checks magic and version).
    ///
    /// # Safety
    /// `desc` must be a descriptor emitted by the wasmaot compiler whose code and data stay
    /// mapped for the rest of the process.
    pub unsafe fn from_descriptor(desc: &'static ModuleDescriptor) -> Result<Module, Error> {
        // SAFETY: forwarded from the caller.
        unsafe { Module::from_raw_descriptor(desc, None) }
    }

    /// Loads an object produced by the compiler (x86-64 ELF relocatable bytes) in-process and
    /// returns the module named `name` (`<name>_wasmaot_module`; `None`: the only one).
    pub fn from_object_bytes(bytes: &[u8], name: Option<&str>) -> Result<Module, Error> {
        Module::from_object_bytes_with(bytes, name, &|_| None)
    }

    /// Like [`Module::from_object_bytes`], with extra symbols supplied by `resolve`.
    pub fn from_object_bytes_with(
        bytes: &[u8],
        name: Option<&str>,
        resolve: &dyn Fn(&str) -> Option<usize>,
    ) -> Result<Module, Error> {
        let code =
            Arc::new(loader::load(bytes, name, resolve).map_err(|e| Error::Load(e.to_string()))?);
        let desc = code.descriptor as *const ModuleDescriptor;
        // SAFETY: the loader found the descriptor symbol and relocated everything it points
        // to; `code` keeps the mapping alive for the module's life.
        unsafe { Module::from_raw_descriptor(desc, Some(code)) }
    }

    unsafe fn from_raw_descriptor(
        desc: *const ModuleDescriptor,
        code: Option<Arc<LoadedCode>>,
    ) -> Result<Module, Error> {
        let bad = |m: &str| Error::Load(m.to_string());
        // SAFETY: the caller guarantees a valid descriptor.
        let d = unsafe { &*desc };
        if d.magic != DESCRIPTOR_MAGIC {
            return Err(bad("bad descriptor magic"));
        }
        if d.abi_version != ABI_VERSION {
            return Err(Error::Load(format!(
                "descriptor ABI version {} (runtime supports {ABI_VERSION})",
                d.abi_version
            )));
        }
        // SAFETY: `info`/`info_len` describe the serialized info blob in the object.
        let blob = unsafe { std::slice::from_raw_parts(d.info, d.info_len as usize) };
        let info = ModuleInfo::decode(blob).map_err(|e| bad(&format!("bad module info: {e}")))?;
        crate::cpu::check(&info.target_arch, &info.cpu_features).map_err(Error::Load)?;
        let ndef = info.funcs.len() - info.num_imported_funcs as usize;
        if d.num_defined_funcs as usize != ndef
            || info.func_sizes.len() != ndef
            || info.func_traps.len() != ndef
            || info.func_names.len() != ndef
        {
            return Err(bad("function counts of descriptor and info disagree"));
        }
        let expect = info.layout_counts();
        if info.counts != expect {
            return Err(bad("layout counts do not match the module info"));
        }
        // SAFETY: the descriptor's arrays have the lengths checked above.
        let funcs = unsafe { slice_or_empty(d.funcs, ndef) }.to_vec();
        // SAFETY: as above.
        let imports =
            unsafe { slice_or_empty(d.imports, info.num_imported_funcs as usize) }.to_vec();
        let type_ids = info.types.iter().map(intern_func_type).collect();
        let mut func_slot = vec![u32::MAX; info.funcs.len()];
        for (slot, &f) in info.escaping.iter().enumerate() {
            *func_slot
                .get_mut(f as usize)
                .ok_or_else(|| bad("escaping function index out of range"))? = slot as u32;
        }
        let exports = info
            .exports
            .iter()
            .map(|e| (e.name.clone(), e.kind))
            .collect();
        let info = Arc::new(info);
        let bodies: Vec<usize> = funcs.iter().map(|f| f.body as usize).collect();
        let map = CodeMap::new(
            d.code_start as usize,
            d.code_end as usize,
            &bodies,
            info.clone(),
        );
        crate::traps::signals::ensure_installed();
        let registration = registry::register(Arc::new(map));
        Ok(Module(Arc::new(ModuleInner {
            offsets: VMOffsets::new(info.counts),
            info,
            type_ids,
            func_slot,
            funcs,
            imports,
            exports,
            descriptor: desc as usize,
            _registration: registration,
            _code: code,
        })))
    }

    /// The decoded module information.
    pub fn info(&self) -> &ModuleInfo {
        &self.0.info
    }

    /// The module's name.
    pub fn name(&self) -> &str {
        &self.0.info.name
    }

    /// The instance context layout of this module.
    pub fn offsets(&self) -> &VMOffsets {
        &self.0.offsets
    }

    /// Canonical type id of module type `index`.
    pub fn type_id(&self, index: u32) -> u32 {
        self.0.type_ids[index as usize]
    }

    /// Address of the descriptor this module was made from.
    pub fn descriptor_addr(&self) -> usize {
        self.0.descriptor
    }

    /// Whether the module imports anything from `module`.
    pub fn imports_module(&self, module: &str) -> bool {
        self.0.info.imports.iter().any(|i| i.module == module)
    }
}

/// A slice from a possibly-null pointer.
///
/// # Safety
/// When `len > 0`, `p` must point to `len` valid elements that outlive the result.
unsafe fn slice_or_empty<'a, T>(p: *const T, len: usize) -> &'a [T] {
    if len == 0 || p.is_null() {
        &[]
    } else {
        // SAFETY: forwarded from the caller.
        unsafe { std::slice::from_raw_parts(p, len) }
    }
}
