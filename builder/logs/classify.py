"""Path classes: which kind of path (ib, tcp, shm, ...) a transport lane or provider stands for.

Pure functions over names as the libraries print them. The classes and their order are the
``esdc.analysis/1`` value set (:data:`builder.model.analysis.PATH_CLASSES`).

Choices where the formats leave room (documented in docs/findings.md through codes.py):

* UCX ``rc_*``/``dc_*``/``ud_*`` lanes and libfabric's ``verbs`` are ``ib`` unless RoCE is known
  (the site's fabric is ``roce``, or NCCL printed a ``/RoCE`` device): the lane names are the
  same on both link layers.
* Bulk-copy helpers (``cma``, ``xpmem``, ``knem``) ride beside a shared-memory lane; when both
  are seen intra-node the reported class is ``shm`` and the helpers stay visible in ``paths``.
* ``self`` lanes are loopback and carry no class; ``cuda_copy``/``gdr_copy``/``rocm_copy`` move
  data between host and device memory, not between ranks, and carry no class either.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable

#: Classes of inter-node paths that use RDMA-capable hardware.
RDMA_CLASSES: frozenset[str] = frozenset({"ib", "roce", "cxi", "efa", "opx", "psm2"})
#: Classes that keep intra-node traffic off the network.
SHM_CLASSES: frozenset[str] = frozenset({"shm", "cma", "xpmem", "knem", "p2p"})
#: Classes that mean "the network stack carries it".
NETWORK_CLASSES: frozenset[str] = RDMA_CLASSES | {"tcp", "socket"}

#: Inter-node quality: higher is better; ``unknown`` has no rank (it cannot be compared).
INTER_RANK: dict[str, int] = {
    "ib": 3,
    "roce": 3,
    "cxi": 3,
    "efa": 3,
    "opx": 3,
    "psm2": 3,
    "tcp": 2,
    "socket": 1,
}
#: Intra-node quality: GPU peer and shared memory beat RDMA loopback, which beats TCP loopback.
INTRA_RANK: dict[str, int] = {
    "p2p": 4,
    "shm": 3,
    "xpmem": 3,
    "knem": 3,
    "cma": 3,
    "ib": 2,
    "roce": 2,
    "cxi": 2,
    "efa": 2,
    "opx": 2,
    "psm2": 2,
    "tcp": 1,
    "socket": 1,
}
#: Which class is reported when several intra-node classes of the same rank are seen:
#: the shared-memory lane names the path, the copy helpers only assist it.
_INTRA_LABEL_ORDER = ("p2p", "shm", "xpmem", "knem", "cma")


_OFI_PROVIDERS: dict[str, str] = {
    "verbs": "ib",
    "mlx": "ib",
    "tcp": "tcp",
    "sockets": "tcp",
    "udp": "tcp",
    "net": "tcp",
    "cxi": "cxi",
    "efa": "efa",
    "psm2": "psm2",
    "opx": "opx",
    "shm": "shm",
    "sm2": "shm",
}
#: Open MPI prints the OFI *domain* (``mtl:ofi:provider: eth0``): map domain names too.
_OFI_DOMAINS: tuple[tuple[re.Pattern[str], str], ...] = (
    (re.compile(r"^mlx\d|^mlx5_|^ibp"), "ib"),
    (re.compile(r"^cxi\d"), "cxi"),
    (re.compile(r"^hfi1?_?\d"), "psm2"),
    (re.compile(r"^rdmap|-rdm$|-dgrm$"), "efa"),
    (re.compile(r"^(?:eth|en|eno|ens|enp|ib|lo|bond|veth|vhpc|hsn|em|br|team)\w*$"), "tcp"),
)


def ofi_provider_class(provider: str, *, roce: bool = False) -> str:
    """The class of a libfabric provider or domain name (``verbs;ofi_rxm``, ``cxi``, ``eth0``)."""
    parts = [p.strip() for p in provider.lower().split(";") if p.strip()]
    core = [p for p in parts if not p.startswith("ofi_") and p not in {"rxm", "rxd", "mrail"}]
    name = core[0] if core else (parts[0] if parts else "")
    cls = _OFI_PROVIDERS.get(name)
    if cls is None:
        cls = next((c for pattern, c in _OFI_DOMAINS if pattern.search(name)), "unknown")
    return "roce" if cls == "ib" and roce else cls


#: Provider that owns an OFI domain name, for consumers that print the domain.
_DOMAIN_PROVIDERS: tuple[tuple[re.Pattern[str], str], ...] = (
    (re.compile(r"^mlx\d|^mlx5_|^ibp"), "verbs"),
    (re.compile(r"^cxi\d"), "cxi"),
    (re.compile(r"^hfi1?_?\d"), "psm2"),
    (re.compile(r"^rdmap|-rdm$|-dgrm$"), "efa"),
)


def ofi_provider_name(value: str | None) -> str | None:
    """The libfabric provider behind a provider *or domain* name, for ``selected.ofi_provider``.

    Open MPI's ``mtl:ofi:provider:`` line prints the domain (``lo``, ``eth0``, ``mlx5_0``,
    ``cxi0``); the analysis reports the provider (``tcp``, ``verbs``, ``cxi``). Provider names,
    layered ones included (``verbs;ofi_rxm``), and names nothing is known about stay as they are.
    """
    if value is None:
        return None
    name = value.strip().lower()
    core = name.split(";", 1)[0]
    if core in _OFI_PROVIDERS or core.startswith("ofi_"):
        return value
    for pattern, provider in _DOMAIN_PROVIDERS:
        if pattern.search(name):
            return provider
    if _OFI_DOMAINS[-1][0].search(name):  # a network interface: the tcp (or sockets) provider
        return "tcp"
    return value


def ucx_lane_class(transport: str, *, roce: bool = False) -> str | None:
    """The class of a UCX lane (``rc_mlx5`` -> ib, ``sysv`` -> shm, ``self`` -> None)."""
    from builder.logs import ucx

    return ucx.path_class(transport, None, roce=roce)


def nccl_transport_class(transport: str, device: str | None, *, roce: bool = False) -> str | None:
    """The class of an NCCL channel transport (``NET/IB/0/GDRDMA``, ``P2P/IPC``)."""
    words = [w for w in re.split(r"[/\s]+", transport.lower()) if w]
    if not words:
        return "unknown"
    if words[0] == "net":
        words = words[1:] or ["unknown"]
    head = words[0]
    if head.startswith("socket"):
        return "socket"
    if head.startswith(("gpudirecttcpx", "fastrak")):
        return "tcp"  # Google's TCPX/FasTrak plugins move GPU data over TCP
    # IB, IBext, IBext_v8 (the HPC-X plugin renames the IB transport), Google's gIB, UCX plugin.
    if head.startswith(("ib", "gib", "ucx")):
        on_roce = roce or (device is not None and "roce" in device.lower())
        return "roce" if on_roce else "ib"
    if head.startswith("p2p"):
        return "p2p"
    if head.startswith("shm"):
        return "shm"
    if head in {"ofi", "libfabric", "aws"}:
        return ofi_provider_class(device, roce=roce) if device else "unknown"
    if head.startswith("coll"):
        return None  # CollNet rides on a network already reported by the NET lines
    return "unknown"


#: A library's own classifier: ``(transport, device, roce=) -> class``.
Classifier = Callable[..., "str | None"]


def _classifier(library: str) -> Classifier | None:
    """The ``path_class`` a library module defines (each library classifies its own lanes)."""
    from builder.logs.registry import ANALYSER_MODULES

    for module in ANALYSER_MODULES:
        if library == module.LIBRARY:
            found: Classifier | None = getattr(module, "path_class", None)
            return found
    return None


def path_class(
    library: str, transport: str, device: str | None, *, roce: bool = False
) -> str | None:
    """The path class of one lane, or ``None`` when the lane is loopback or a local copy helper.

    Each library module classifies its own lanes (``path_class`` beside its rule table); a
    library without one is read as naming libfabric providers.
    """
    name = transport.lower()
    own = _classifier(library)
    if own is not None:
        return own(name, device, roce=roce)
    if library == "nccl":
        return nccl_transport_class(name, device, roce=roce)
    return ofi_provider_class(name, roce=roce)


def is_loopback_device(device: str | None) -> bool:
    """True for a loopback network device, which cannot carry traffic between nodes."""
    return device is not None and device.lower() in {"lo", "loopback", "lo0"}


def best_class(classes: Iterable[str], scope: str) -> str | None:
    """The best class seen for ``scope`` (``inter-node`` or ``intra-node``), ``None`` if none.

    ``unknown`` is reported only when nothing rankable was seen.
    """
    seen = set(classes)
    if not seen:
        return None
    ranks = INTER_RANK if scope == "inter-node" else INTRA_RANK
    rankable = [c for c in seen if c in ranks]
    if not rankable:
        return "unknown"
    top = max(ranks[c] for c in rankable)
    tied = sorted(c for c in rankable if ranks[c] == top)
    if scope == "intra-node":
        for label in _INTRA_LABEL_ORDER:
            if label in tied:
                return label
    return tied[0]


def class_rank(cls: str | None, scope: str) -> int | None:
    """The quality rank of ``cls`` for ``scope``; ``None`` when it cannot be compared."""
    if cls is None:
        return None
    return (INTER_RANK if scope == "inter-node" else INTRA_RANK).get(cls)
