"""pytest fixtures that run the UCWA simulator (in-process and over real loopback HTTP)."""
