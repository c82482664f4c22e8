"""The core's built-in plugin: the ``echo`` bindings, registered like any third-party plugin.

:mod:`.echo_plugin` holds the registration hook (loaded at discovery, imports nothing
heavy); :mod:`.echo` holds the binding classes (imported when an echo binding is created).
"""
