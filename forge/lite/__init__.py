"""`forge lite`: a JupyterLite site whose Pyodide kernel starts from the channel alone."""

from .site import SiteReport, build_site, kernel_settings, site_settings

__all__ = ["SiteReport", "build_site", "kernel_settings", "site_settings"]
