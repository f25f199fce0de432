package dev.nodekit.spec.cni;

/**
 * What {@link Result#convertTo(CniVersion, DataLoss)} does with content the target version cannot
 * express (1.1.0-only interface and route attributes below 1.1.0; interfaces, interface indexes,
 * second addresses of a family and unplaceable routes in 0.1.0/0.2.0).
 */
public enum DataLoss {
    /** Fail with code 1, naming the first field that would be lost. */
    REJECT,
    /**
     * Drop it, as a plugin printing its result in the requested version must. For 0.1.0/0.2.0 this is
     * libcni's rule: the first IPv4 and first IPv6 address are kept, routes go under the family of
     * their destination, interfaces are dropped. Unlike libcni, 1.1.0-only attributes are also
     * dropped below 1.1.0 (libcni's shared Go types keep printing them).
     */
    DROP
}
