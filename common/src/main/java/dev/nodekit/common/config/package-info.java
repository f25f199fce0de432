/**
 * Reading configuration files: one loader, one error format.
 *
 * <h2>Design notes</h2>
 * <ul>
 *   <li><b>One loader for every file.</b> The CRI shim's interceptor config, the CSI driver's
 *       backend config and the CNI plugin's defaults all go through
 *       {@link dev.nodekit.common.config.ConfigLoader}, so they share syntax (YAML, with JSON as the
 *       subset it is), strictness and error messages. Binding targets are records validated in
 *       their compact constructors: a config object that exists is a valid one.</li>
 *   <li><b>Strict.</b> Unknown fields, duplicate keys and more than one YAML document are errors. A
 *       misspelt {@code timout:} that is silently ignored is worse than a refusal to start: the
 *       operator believes a setting is in force that is not.</li>
 *   <li><b>Errors point at the spot.</b> Every error is {@code file:line:column: field.path: what},
 *       the shape editors and CI logs link to. Jackson reports a binding error where its parser
 *       happens to be - for a record, after the end of the object - so a first streaming pass
 *       records where each value starts (for a member, where its key starts) and the error is moved
 *       there. Exceptions from compact constructors arrive without a field; when the message starts
 *       with the name of a field present in that object ({@code "timeout: must be positive"},
 *       {@code "timeout must be positive"}) the error is attributed to that field, and
 *       {@code Objects.requireNonNull(x, "x")} becomes "x: required field is missing". Otherwise it
 *       points at the object.</li>
 *   <li><b>Durations as people write them.</b> {@code 5s}, {@code 250ms}, {@code 1h30m}
 *       ({@link dev.nodekit.common.config.Durations}), as in Kubernetes and Go tools; a bare number is
 *       refused because {@code timeout: 5} is ambiguous. This is a small deserializer of our own, so
 *       jackson-datatype-jsr310 is not needed (nor jdk8: optional config fields are nullable
 *       components defaulted in the compact constructor).</li>
 * </ul>
 */
package dev.nodekit.common.config;
