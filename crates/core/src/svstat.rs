//! `s6-svstat`'s output, computed from a status file, the presence of `./down` and "now".
