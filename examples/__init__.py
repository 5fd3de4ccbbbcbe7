"""The example cluster files. Installed as the package data of ``placement.examples``
(so ``placement demo`` finds the seed cluster from any folder); read them with
``importlib.resources.files("placement.examples")``."""
