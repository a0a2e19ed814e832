/**
 * conda.yaml's own (non-pip) dependencies as pip requirements: the conda package names that differ
 * on PyPI, the conda packages with no pip equivalent (skipped with a note), and conda's version
 * pins in pip's syntax. A name in neither table is a conda-forge package of the same name on PyPI.
 */

/** Conda package → its PyPI name, where they differ (case is PyPI's; pip compares names case-blind). */
export const CONDA_TO_PIP: Readonly<Record<string, string>> = {
  pytorch: 'torch',
  'pytorch-cpu': 'torch',
  'pytorch-gpu': 'torch',
  'py-xgboost': 'xgboost',
  'py-xgboost-cpu': 'xgboost',
  'py-xgboost-gpu': 'xgboost',
  'tensorflow-base': 'tensorflow',
  'tensorflow-gpu': 'tensorflow',
  'tensorflow-mkl': 'tensorflow',
  'tensorflow-eigen': 'tensorflow',
  'keras-gpu': 'keras',
  opencv: 'opencv-python',
  'py-opencv': 'opencv-python',
  'msgpack-python': 'msgpack',
  pyyaml: 'PyYAML',
  ruamel_yaml: 'ruamel.yaml',
  'matplotlib-base': 'matplotlib',
  'numpy-base': 'numpy',
  pytables: 'tables',
  'python-graphviz': 'graphviz',
  pyqt: 'PyQt5',
  'python-kubernetes': 'kubernetes',
  'python-tzdata': 'tzdata',
};

/**
 * Conda packages that are not Python packages (interpreter, tooling, compilers, native libraries,
 * CUDA), by why: they are skipped, and the version's notes say so.
 */
export const CONDA_ONLY: Readonly<Record<string, string>> = {
  python: 'the Python version is chosen from it, not installed',
  pip: 'installer tooling',
  setuptools: 'installer tooling',
  wheel: 'installer tooling',
  conda: 'installer tooling',
  'conda-build': 'installer tooling',
  mamba: 'installer tooling',
  python_abi: 'conda metadata',
  'ca-certificates': 'a system package',
  openssl: 'a native library',
  tzdata: 'a system package (the pip package of the same name is not it)',
  gcc: 'a compiler',
  gxx: 'a compiler',
  gfortran: 'a compiler',
  'c-compiler': 'a compiler',
  'cxx-compiler': 'a compiler',
  'fortran-compiler': 'a compiler',
  compilers: 'a compiler',
  make: 'a build tool',
  cmake: 'a build tool',
  ninja: 'a build tool',
  mkl: 'a native library (pip wheels bundle their BLAS)',
  'mkl-service': 'a native library (pip wheels bundle their BLAS)',
  mkl_fft: 'a native library (pip wheels bundle their BLAS)',
  mkl_random: 'a native library (pip wheels bundle their BLAS)',
  'intel-openmp': 'a native library',
  'llvm-openmp': 'a native library',
  blas: 'a native library (pip wheels bundle their BLAS)',
  openblas: 'a native library (pip wheels bundle their BLAS)',
  nomkl: 'a native library selector',
  cudatoolkit: 'CUDA (pip wheels of GPU frameworks bundle or name their own)',
  cudnn: 'CUDA (pip wheels of GPU frameworks bundle or name their own)',
  nccl: 'CUDA (pip wheels of GPU frameworks bundle or name their own)',
  magma: 'CUDA (pip wheels of GPU frameworks bundle or name their own)',
  cupti: 'CUDA (pip wheels of GPU frameworks bundle or name their own)',
  'cuda-toolkit': 'CUDA (pip wheels of GPU frameworks bundle or name their own)',
  cpuonly: 'a conda variant selector',
  'arrow-cpp': 'a native library (the pyarrow wheel bundles it)',
  zlib: 'a native library',
  xz: 'a native library',
  bzip2: 'a native library',
  lz4: 'a native library',
  'lz4-c': 'a native library',
  zstd: 'a native library',
  sqlite: 'a native library',
  readline: 'a native library',
  ncurses: 'a native library',
  tk: 'a native library',
  jpeg: 'a native library',
  icu: 'a native library',
  hdf5: 'a native library',
  libprotobuf: 'a native library (the protobuf wheel bundles it)',
  libarrow: 'a native library (the pyarrow wheel bundles it)',
  proj: 'a native library',
  geos: 'a native library',
  'cudatoolkit-dev': 'CUDA (pip wheels of GPU frameworks bundle or name their own)',
  'pytorch-cuda': 'CUDA (pip wheels of GPU frameworks bundle or name their own)',
  'pytorch-mutex': 'a conda variant selector',
  graphviz: 'a native program (the Python package is python-graphviz)',
  nodejs: 'not a Python package',
  'r-base': 'not a Python package',
  git: 'not a Python package',
};

/** Conda packages skipped by the form of their name: native libraries and platform pins. */
const CONDA_ONLY_PATTERNS: ReadonlyArray<readonly [RegExp, string]> = [
  [/^_/, 'conda metadata'],
  [/_(linux|osx|win)-(64|32|aarch64|arm64|ppc64le)$/, 'a compiler or platform package'],
  [/^lib.*-ng$/, 'a native library'],
  [
    /^lib(gcc|stdcxx|gfortran|gomp|blas|cblas|lapack|lapacke|openblas|ffi|zlib|uuid|nsl|xcrypt|sqlite)/,
    'a native library',
  ],
  [/^(ld_impl|libcu|libnv|libnpp|libcufft|libcurand|libcusolver|libcusparse|libcublas)/, 'a native library'],
  [/^cuda-/, 'CUDA (pip wheels of GPU frameworks bundle or name their own)'],
];

/** What one conda dependency becomes: a pip requirement, or a note saying why it was left out. */
export type CondaDependency = { readonly requirement: string; readonly note?: string } | { readonly skipped: string };

/**
 * One conda dependency (a match spec: `name`, `name=1.2`, `name==1.2.3`, `name>=1.2,<2`,
 * `name=1.2.3=py38_0`, `name 1.2.3 py38_0`, `channel::name`, `name[version='>=1.2']`) as a pip
 * requirement. conda's `=1.2.3` is pip's `==1.2.3`, its fuzzy `=1.2` is `==1.2.*`, a build string
 * is dropped; a version set with `|` (either of) has no pip form: the package is kept unpinned.
 */
export function condaToPip(spec: string): CondaDependency {
  const parsed = parseMatchSpec(spec);
  if (!parsed) return { skipped: `'${spec}' is not a conda package spec` };
  const conda = parsed.name.toLowerCase();
  const reason = CONDA_ONLY[conda] ?? CONDA_ONLY_PATTERNS.find(([pattern]) => pattern.test(conda))?.[1];
  const pipName = CONDA_TO_PIP[conda];
  if (reason !== undefined) return { skipped: `${parsed.name}: ${reason}` };
  const name = pipName ?? parsed.name;
  const renamed = pipName !== undefined && pipName.toLowerCase() !== conda;
  const pin = parsed.version === undefined ? '' : pipVersion(parsed.version);
  if (pin === undefined) {
    return {
      requirement: name,
      note: `${spec.trim()}: conda's version set '${parsed.version}' has no pip form; installed unpinned`,
    };
  }
  const note = renamed ? `${parsed.name} is ${name} on PyPI` : undefined;
  return note ? { requirement: `${name}${pin}`, note } : { requirement: `${name}${pin}` };
}

interface MatchSpec {
  readonly name: string;
  /** The version part as conda writes it (`=1.2`, `1.2.*`, `>=1.2,<2`), without a build string. */
  readonly version?: string;
}

function parseMatchSpec(spec: string): MatchSpec | undefined {
  let text = spec.trim();
  const channel = text.lastIndexOf('::');
  if (channel >= 0) text = text.slice(channel + 2);
  let bracketVersion: string | undefined;
  const bracket = /\[(.*)\]\s*$/.exec(text);
  if (bracket) {
    bracketVersion = /version\s*=\s*['"]?([^'",\]]+(?:,[^'",\]]+)*)['"]?/.exec(bracket[1] ?? '')?.[1];
    text = text.slice(0, bracket.index).trim();
  }
  const name = /^[A-Za-z0-9_][A-Za-z0-9_.-]*/.exec(text)?.[0];
  if (!name) return undefined;
  let rest = text.slice(name.length).trim();
  if (bracketVersion !== undefined) rest = bracketVersion.trim();
  if (rest === '' || rest === '*' || rest === '=*') return { name };
  if (/^=[^=]/.test(rest)) {
    // `=1.2.3` or `=1.2.3=build`: the build (after a second single `=`) is dropped.
    const [version] = rest.slice(1).split('=');
    return { name, version: `=${(version ?? '').trim()}` };
  }
  // `==1.2.3=build`: the build is dropped.
  const exact = /^==([^=,|]+)=[^=]*$/.exec(rest);
  if (exact) return { name, version: `==${(exact[1] ?? '').trim()}` };
  if (/^[<>!~=]/.test(rest)) return { name, version: rest.replace(/\s+/g, '') };
  // The space-separated form: `name 1.2.3 py38_0`.
  const [version] = rest.split(/\s+/);
  return { name, version };
}

/** A conda version constraint in pip's syntax (`==1.2.3`, `==1.2.*`, `>=1.2,<2`); undefined when it has none. */
function pipVersion(version: string): string | undefined {
  if (version.includes('|')) return undefined;
  if (version.startsWith('=') && !version.startsWith('==')) return fuzzy(version.slice(1));
  if (/^[<>!~=]/.test(version)) return version;
  // The space-separated form's bare version is exact, unless it ends in `*`.
  return version.endsWith('*') ? fuzzy(version) : `==${version}`;
}

/** conda's bare or single-`=` version: exact with three parts or more, else every release starting with it. */
function fuzzy(version: string): string | undefined {
  const v = version.trim();
  if (v === '' || v === '*') return '';
  if (v.endsWith('*')) return `==${v.replace(/\.?\*$/, '')}.*`;
  return v.split('.').length >= 3 ? `==${v}` : `==${v}.*`;
}
