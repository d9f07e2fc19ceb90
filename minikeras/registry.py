"""Your own classes and functions, found again by name when a file is loaded.

A saved file names every object by ``class_name`` (and, for your own objects, by a
``registered_name`` such as ``"my_package>MyLayer"``). Loading looks the name up, in this
order: the ``custom_objects`` passed to ``load_model``, the objects of an open
:class:`CustomObjectScope`, the objects registered with
:func:`register_keras_serializable`, then minikeras's own classes. Nothing is ever
imported or run because a file names it: an unknown name is an error that says to
register the object or to pass it in ``custom_objects``.
"""

_REGISTERED = {}      # "package>Name" -> the class or function
_REGISTERED_NAMES = {}  # id(the class or function) -> "package>Name"
_scopes = []          # the dicts of the open CustomObjectScopes, innermost last


def register_keras_serializable(package="Custom", name=None):
    """A decorator that registers a class or function under ``"package>name"`` (``name``
    defaults to the class's or function's ``__name__``), so that ``load_model`` finds it
    without ``custom_objects``::

        @minikeras.saving.register_keras_serializable(package="my_layers")
        class Scale(minikeras.layers.Layer):
            ...
    """
    def decorator(obj):
        registered_name = f"{package}>{name or obj.__name__}"
        if isinstance(obj, type) and not hasattr(obj, "get_config"):
            raise ValueError("Cannot register a class that does not have a get_config() "
                             f"method: {obj.__name__}.")
        _REGISTERED[registered_name] = obj
        _REGISTERED_NAMES[id(obj)] = registered_name
        return obj
    return decorator


def get_registered_name(obj):
    """``"package>Name"`` for a registered object, else its ``__name__``."""
    return _REGISTERED_NAMES.get(id(obj), getattr(obj, "__name__", None))


def get_registered_object(name, custom_objects=None):
    """The object ``name`` stands for among the custom and registered objects, or None."""
    for table in [custom_objects or {}] + _scopes[::-1] + [_REGISTERED]:
        if name in table:
            return table[name]
    return None


def get_custom_objects():
    """The dict of registered objects (``"package>Name"`` -> object). Adding to it
    registers an object under the key you give."""
    return _REGISTERED


class CustomObjectScope:
    """``with CustomObjectScope({"MyLayer": MyLayer}):`` makes these names known to every
    load inside the block, as ``custom_objects`` would."""

    def __init__(self, custom_objects):
        self.custom_objects = dict(custom_objects or {})

    def __enter__(self):
        _scopes.append(self.custom_objects)
        return self

    def __exit__(self, *exc):
        _scopes.remove(self.custom_objects)
        return False


custom_object_scope = CustomObjectScope
