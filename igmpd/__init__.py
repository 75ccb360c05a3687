"""igmpd: an IGMPv1/v2/v3 querier router that reports the RRAS socket-operation events."""
