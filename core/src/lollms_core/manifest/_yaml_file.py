"""Reading a ``description.yaml`` safely: bounded size, bounded alias expansion, the file named in errors.

A manifest comes from a package we did not write. YAML anchors and aliases let a few
hundred bytes describe billions of nodes ("billion laughs"): PyYAML builds them as shared
objects in no time, and validating or serialising them then never ends. The composed node
graph is walked first, counting every node an alias would expand to, and refused past a
bound no real manifest comes near.
"""

from __future__ import annotations

from typing import Any

from ..errors import ManifestError

__all__ = ["MAX_MANIFEST_BYTES", "MAX_MANIFEST_NODES", "load_manifest_yaml"]

#: Largest accepted description.yaml (the in-tree ones are under 10 KB).
MAX_MANIFEST_BYTES = 256 * 1024
#: Most YAML nodes a manifest may expand to, aliases counted at every use.
MAX_MANIFEST_NODES = 20_000


def load_manifest_yaml(data: bytes | str, where: str) -> Any:
    """Parse one manifest; ``where`` (its path) is named in every error.

    :raises ManifestError: too large, too many nodes after alias expansion, or not YAML.
    """
    size = len(data.encode("utf-8") if isinstance(data, str) else data)
    if size > MAX_MANIFEST_BYTES:
        raise ManifestError(f"{where}: {size} bytes; a description.yaml may have at most {MAX_MANIFEST_BYTES}")
    import yaml

    text = data if isinstance(data, str) else data.decode("utf-8", errors="replace")
    loader_class = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    loader = loader_class(text)
    try:
        node = loader.get_single_node()
        if node is None:
            return None
        _count(node, where)
        return loader.construct_document(node)
    except yaml.YAMLError as exc:
        raise ManifestError(f"{where}: not valid YAML: {' '.join(str(exc).split())}") from None
    except RecursionError:
        raise ManifestError(f"{where}: nested too deeply") from None
    finally:
        loader.dispose()


def _count(root: Any, where: str) -> None:
    """Walk the node graph as construction would expand it; stop at :data:`MAX_MANIFEST_NODES`."""
    import yaml

    seen, stack = 0, [root]
    while stack:
        node = stack.pop()
        seen += 1
        if seen > MAX_MANIFEST_NODES:
            raise ManifestError(
                f"{where}: more than {MAX_MANIFEST_NODES} YAML nodes once anchors/aliases are expanded "
                "(a 'billion laughs' manifest?)"
            )
        if isinstance(node, yaml.SequenceNode):
            stack.extend(node.value)
        elif isinstance(node, yaml.MappingNode):
            for key, value in node.value:
                stack.append(key)
                stack.append(value)
