/**
 * The CNI 1.1 wire types: network configuration ({@link dev.nodekit.spec.cni.NetConf}), configuration
 * list ({@link dev.nodekit.spec.cni.NetConfList}), results of every version
 * ({@link dev.nodekit.spec.cni.Result}), the error body ({@link dev.nodekit.spec.cni.CniError}) and
 * the VERSION output ({@link dev.nodekit.spec.cni.VersionInfo}), all immutable records validated in
 * their compact constructors, plus {@link dev.nodekit.spec.cni.CniVersion} and the one failure type
 * {@link dev.nodekit.spec.cni.CniException}.
 *
 * <h2>Two ways in and out: jackson-core alone, or an ObjectMapper</h2>
 * A CNI plugin is a process per operation, so every class it loads is latency. Decoding a bridge
 * configuration and printing a result in a fresh JDK 17 loads 699 classes with jackson-core alone
 * (133 of them outside the JDK's CDS archive) against 1481 (597) through an ObjectMapper, and took
 * about a third of the time (a 2-core VM under load: 107 vs 406 ms at best, 95 vs 322 ms median
 * with an AppCDS archive of each). The codec of each
 * type is therefore written against jackson-core's streaming {@code JsonParser}/{@code JsonGenerator}
 * only: {@code X.parse(String|byte[])}, {@link dev.nodekit.spec.cni.CniJson#toJson()} and
 * {@link dev.nodekit.spec.cni.CniJson#writeJson} never load a databind class. The same code serves
 * jackson-databind: each type carries {@code @JsonSerialize}/{@code @JsonDeserialize} naming two small
 * adapters (package-private {@code DatabindSerializer}/{@code DatabindDeserializer}) that hand
 * databind's parser or generator to that code. Annotations are only resolved when databind reflects
 * on the class, so a classpath with jackson-core alone works; one implementation means the two paths
 * cannot disagree.
 *
 * <p>What the streaming path avoids, because each first use bootstraps invokedynamic and costs
 * milliseconds in a fresh JVM: lambdas and method references, {@code +} string concatenation
 * (messages are only built on failure), and the record-generated {@code equals}/{@code hashCode}/
 * {@code toString} ({@code CniVersion}, compared on every call, writes its own). The records have no
 * static initialisers beyond constant arrays and the seven version constants; the shared
 * {@code JsonFactory} is created on first use.
 *
 * <h2>Unknown keys</h2>
 * Every object type keeps the keys it does not model in an {@code extra()} map of "natural" JSON
 * values: {@code String}, {@code Boolean}, {@code Integer}/{@code Long}/{@code BigInteger},
 * {@code BigDecimal} (other numbers, exact text), {@code List<Object>}, {@code Map<String, Object>}
 * (insertion order) and {@code null} for JSON null; deeply immutable. They are written back after the
 * known keys, so a plugin's own keys and anything a newer runtime adds survive a decode/encode cycle,
 * inside a {@code prevResult} as well. A key of {@code extra} may not be one the type models.
 * Known keys are written in canonical form: empty lists and maps are left out (Go's
 * {@code omitempty}), conflist flags given as {@code "true"}/{@code "false"} come back as booleans,
 * {@code Bandwidth} writes all four numbers; {@code Optional} components keep the difference between
 * an absent and an empty object ({@code "ipam": {}} is the bridge plugin's "layer 2 only").
 *
 * <h2>Results and versions</h2>
 * A {@link dev.nodekit.spec.cni.Result} holds the 1.x model and writes the shape of its own
 * {@code cniVersion}: {@code ip4}/{@code ip6} for 0.1.0/0.2.0, {@code ips[].version} for
 * 0.3.0-0.4.0, neither from 1.0.0. {@link dev.nodekit.spec.cni.Result#convertTo} converts between
 * any two of {@link dev.nodekit.spec.cni.CniVersion#ALL}, as libcni allows; going down it either
 * fails naming the first field that would be lost ({@link dev.nodekit.spec.cni.DataLoss#REJECT}, the
 * default) or drops it ({@link dev.nodekit.spec.cni.DataLoss#DROP}, libcni's behaviour: first IPv4
 * and IPv6 address only, routes by destination family, no interfaces in 0.1.0/0.2.0). Differences
 * from libcni, on purpose: 1.1.0-only attributes (interface {@code mtu/socketPath/pciID}, route
 * {@code mtu/advmss/priority/table/scope}) are removed below 1.1.0 where libcni's shared Go types keep
 * printing them; {@code ips[].interface} must index an existing interface; a result must declare its
 * {@code cniVersion} unless the caller supplies the default (a {@code prevResult} takes its
 * configuration's, as in libcni).
 *
 * <h2>Validation and errors</h2>
 * Compact constructors throw {@code IllegalArgumentException} whose message starts with the field
 * ({@code "address: '10.0.0.1' is not a CIDR (expected ADDRESS/PREFIX)"}); decoding prefixes the path
 * of the enclosing value ({@code "prevResult.ips[0].address: ..."}) and throws
 * {@link dev.nodekit.spec.cni.CniException} with the CNI code a plugin should answer: 6 for malformed
 * JSON or wrong JSON types, 7 for an invalid value in a configuration (6 in a result), 1 for an
 * unknown result version. Checked: CIDRs and IP literals (Go's {@code net.ParseIP} rules, without
 * {@code InetAddress}), MACs, ports, network names, non-negative numbers. Not checked: what belongs to
 * a plugin (host-local's range arithmetic, whether a bridge name exists).
 *
 * <p>Allowed imports: jackson-core everywhere; jackson-databind only in the two adapters and in the
 * annotations. Nothing else of nodekit.
 */
package dev.nodekit.spec.cni;
