"""Finding Keras objects by name and writing them as configs: what ``initializers``,
``regularizers`` and ``constraints`` share (``get("he_normal")``, ``serialize``,
``deserialize``)."""
import difflib
import re

from . import registry


def snake_case(name):
    """``GlorotUniform`` -> ``glorot_uniform``."""
    return re.sub(r"(?<!^)(?=[A-Z])", "_", name).lower()


def name_table(classes, extra=None):
    """Every class under its own name and its snake_case name, plus ``extra`` aliases."""
    table = {cls.__name__: cls for cls in classes}
    table.update({snake_case(cls.__name__): cls for cls in classes})
    table.update(extra or {})
    return table


def class_for(kind, name, table, custom_objects=None):
    """The class called ``name``, or a ValueError that suggests the closest valid name and
    lists them all."""
    found = registry.get_registered_object(name, custom_objects)
    if found is not None:
        return found
    if name in table:
        return table[name]
    close = difflib.get_close_matches(name, table, n=1)
    hint = f" Did you mean {close[0]!r}?" if close else ""
    raise ValueError(f"Unknown {kind} {name!r}.{hint} Valid names: {', '.join(sorted(table))}.")


def serialize(kind, module, obj):
    """``obj`` as the JSON-ready dict Keras writes in saved files."""
    if obj is None:
        return None
    if not hasattr(obj, "get_config"):
        raise ValueError(f"Cannot serialize the {kind} {obj!r}: it has no get_config().")
    registered = registry.get_registered_name(type(obj))
    return {"module": module, "class_name": type(obj).__name__, "config": obj.get_config(),
            "registered_name": registered if ">" in registered else None}


def deserialize(kind, config, table, custom_objects=None):
    """An object from a name (its defaults) or a ``{"class_name", "config"}`` dict."""
    if isinstance(config, str):
        return class_for(kind, config, table, custom_objects)()
    if isinstance(config, dict) and "class_name" in config:
        registered = registry.get_registered_object(config.get("registered_name") or "",
                                                    custom_objects)
        cls = registered or class_for(kind, config["class_name"], table, custom_objects)
        return cls.from_config(dict(config.get("config") or {}))
    article = "an" if kind[0] in "aeiou" else "a"
    raise ValueError(f"Cannot deserialize {article} {kind} from {config!r}: expected a name or "
                     "a dict with 'class_name' and 'config'.")
