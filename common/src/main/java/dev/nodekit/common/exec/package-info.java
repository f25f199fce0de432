/**
 * Running external programs (mount, ip, rbd, mkfs...) safely and testably.
 *
 * <h2>Design notes</h2>
 * <ul>
 *   <li><b>argv, never a shell string.</b> A {@link dev.nodekit.common.exec.Command} is a list of
 *       arguments handed to {@code execve}; no shell parses it, so a volume name or an interface
 *       name can never become a second command. Secrets go through stdin or the environment (which
 *       {@code toString()} and the logs never show), never argv, which every user can read in
 *       {@code /proc/PID/cmdline}.</li>
 *   <li><b>Every command has a timeout.</b> A hung {@code mount} of a dead NFS server must not hold a
 *       CSI call forever. On timeout the process and the descendants it had are SIGKILLed (the
 *       snapshot of descendants is taken before the parent dies, because orphans are re-parented
 *       and no longer show up) and {@link dev.nodekit.common.exec.CommandTimeoutException} is thrown.
 *       There is no SIGTERM grace: a command that ran out of time is treated as hung. A process
 *       forking in the instant between the snapshot and the kill can escape; a hard guarantee needs
 *       a cgroup or a pid namespace. A process stuck in uninterruptible sleep (D state) cannot be
 *       killed by anyone; we log and move on after 5 s instead of waiting for it.</li>
 *   <li><b>Both pipes are drained concurrently</b> by pooled daemon threads. Reading stdout to the end
 *       before stderr deadlocks as soon as the child fills the 64 KiB stderr pipe. Each stream keeps
 *       at most {@code maxOutputBytes} (4 MiB by default) and drains and drops the rest, so a chatty
 *       command cannot exhaust the heap; {@link dev.nodekit.common.exec.CommandResult#outputTruncated()}
 *       says when that happened. The head is kept, not the tail: parsers read from the start.</li>
 *   <li><b>Background children are not waited for.</b> A command that leaves a daemon behind which
 *       inherited its stdout (some fuse helpers do) would keep the pipe open forever. After the
 *       process itself exits we read for a short grace (1 s) and then return what we have; the
 *       reader thread ends when the daemon closes the pipe.</li>
 *   <li><b>Exit codes are data.</b> {@link dev.nodekit.common.exec.CommandRunner#run} returns the
 *       result whatever the exit code; {@code checkSuccess()} / {@code checkExit(0, 32)} turn the
 *       unacceptable ones into a checked {@link dev.nodekit.common.exec.CommandException} that carries
 *       the argv, the code and the last lines of stderr.</li>
 *   <li><b>Injection.</b> Code takes a {@link dev.nodekit.common.exec.CommandRunner}; tests pass the
 *       {@code RecordingCommandRunner} of the common test-jar ({@code dev.nodekit.common.testing}),
 *       which records every command and answers from a script.</li>
 * </ul>
 */
package dev.nodekit.common.exec;
