/**
 * The conformance harness: one framework for the CSI, CNI and CRI suites.
 *
 * <p>A {@link dev.nodekit.conformance.Suite} is an ordered list of
 * {@link dev.nodekit.conformance.Check}s; each has a stable id, the spec section it enforces, the
 * host {@link dev.nodekit.common.Requirement}s it needs and a body that runs against a target
 * given at run time (an endpoint, a plugin directory). {@link dev.nodekit.conformance.SuiteRunner}
 * runs a suite, {@link dev.nodekit.conformance.SuiteReport} prints the table and the closing line
 * {@code N passed, N failed, N skipped}, writes JUnit XML and gives the exit code;
 * {@link dev.nodekit.conformance.JUnitSuites} runs the same checks as JUnit dynamic tests inside
 * {@code mvn verify}.
 *
 * <p>Rules every check follows:
 * <ul>
 *   <li>Every check can fail: each has a unit test that runs it against a target with one
 *       injected defect and asserts FAIL.</li>
 *   <li>A check cleans up what it creates, so checks are independent and any subset can run.</li>
 *   <li>A missing host requirement is declared, never discovered: the runner turns it into SKIP
 *       with the reason, or FAIL in strict mode. {@link dev.nodekit.conformance.CheckSkipped} is only
 *       for "does not apply to this plugin" (an unadvertised capability).</li>
 * </ul>
 *
 * <p>Targets and flags ({@code nodekit conformance ...}):
 * {@code csi --endpoint E [--controller-endpoint E] [--staging-dir D] [--target-dir D] [--params FILE]
 * [--secrets FILE] [--volume-size BYTES] [--access-type mount|block] [--fs-type T]};
 * {@code cni --bin-dir DIR (--plugin NAME --ipam NAME | --conf FILE) [--versions LIST] [--exec-timeout S]};
 * {@code cri --endpoint E [--image-endpoint E] [--image REF] [--runtime-handler H] [--cgroup-parent P]
 * [--log-root DIR] [--call-timeout SECONDS]};
 * all take {@code --junit FILE} and {@code --only/--skip REGEX}.
 */
package dev.nodekit.conformance;
