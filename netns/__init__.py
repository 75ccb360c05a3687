"""The namespace lab: topologies of network namespaces built and removed through netlink."""
