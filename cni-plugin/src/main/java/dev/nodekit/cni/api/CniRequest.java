package dev.nodekit.cni.api;

import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Optional;

import dev.nodekit.spec.cni.CniError;
import dev.nodekit.spec.cni.CniException;
import dev.nodekit.spec.cni.CniVersion;
import dev.nodekit.spec.cni.NetConf;

/**
 * One CNI call as the dispatcher validated it: the {@code CNI_*} variables, the decoded configuration
 * and the raw stdin (which a plugin forwards unchanged to a delegate, as the spec requires). The
 * dispatcher has already checked that every variable {@link #command()} requires is present, that
 * the container id and interface name are well formed, and that {@link #version()} is supported.
 *
 * @param command     {@code CNI_COMMAND}
 * @param containerId {@code CNI_CONTAINERID}
 * @param netns       {@code CNI_NETNS}, a path (absent on a runtime's second DEL)
 * @param ifName      {@code CNI_IFNAME}
 * @param args        {@code CNI_ARGS}
 * @param cniPath     {@code CNI_PATH}, the directories to look for delegate plugins in
 * @param config      the network configuration from stdin
 * @param stdin       stdin as received (copied on the way in and out)
 * @param env         the whole environment of the call, passed on to delegates
 */
public record CniRequest(CniCommand command, Optional<String> containerId, Optional<Path> netns, Optional<String> ifName,
        CniArgs args, List<Path> cniPath, NetConf config, byte[] stdin, Map<String, String> env) {

    public CniRequest {
        if (command == null || config == null) {
            throw new IllegalArgumentException("command and config are required");
        }
        containerId = containerId == null ? Optional.empty() : containerId;
        netns = netns == null ? Optional.empty() : netns;
        ifName = ifName == null ? Optional.empty() : ifName;
        args = args == null ? CniArgs.EMPTY : args;
        cniPath = cniPath == null ? List.of() : List.copyOf(cniPath);
        stdin = stdin == null ? new byte[0] : stdin.clone();
        env = env == null ? Map.of() : Map.copyOf(env);
    }

    /** A copy of stdin. */
    @Override
    public byte[] stdin() {
        return stdin.clone();
    }

    /** The spec version of the configuration (what the result must be printed in). */
    public CniVersion version() {
        return config.version();
    }

    /** The network name ({@code name} of the configuration, which the dispatcher requires). */
    public String networkName() {
        return config.name().orElse("");
    }

    /** The container id; code 4 when the command did not require it and it was not given. */
    public String requiredContainerId() throws CniException {
        if (containerId.isEmpty()) {
            throw new CniException(CniError.INVALID_ENVIRONMENT_VARIABLES, "CNI_CONTAINERID is required for "
                    + command);
        }
        return containerId.get();
    }

    /** The interface name; code 4 when absent. */
    public String requiredIfName() throws CniException {
        if (ifName.isEmpty()) {
            throw new CniException(CniError.INVALID_ENVIRONMENT_VARIABLES, "CNI_IFNAME is required for " + command);
        }
        return ifName.get();
    }

    /** The netns path; code 4 when absent. */
    public Path requiredNetns() throws CniException {
        if (netns.isEmpty()) {
            throw new CniException(CniError.INVALID_ENVIRONMENT_VARIABLES, "CNI_NETNS is required for " + command);
        }
        return netns.get();
    }

    /** This request as another command with another configuration (a delegate call, an undo). */
    public CniRequest with(CniCommand newCommand, NetConf newConfig, byte[] newStdin) {
        return new CniRequest(newCommand, containerId, netns, ifName, args, cniPath, newConfig, newStdin, env);
    }

    /** This request as another command, same configuration and stdin. */
    public CniRequest as(CniCommand newCommand) {
        return new CniRequest(newCommand, containerId, netns, ifName, args, cniPath, config, stdin, env);
    }

    /** Command, container, interface and netns: never the configuration or environment. */
    @Override
    public String toString() {
        return "CniRequest[" + command + " container=" + containerId.orElse("-") + " ifname=" + ifName.orElse("-")
                + " netns=" + (netns.isPresent() ? netns.get().toString() : "-") + " network=" + networkName() + "]";
    }
}
