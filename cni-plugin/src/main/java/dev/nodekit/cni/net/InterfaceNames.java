package dev.nodekit.cni.net;

/**
 * Checks of Linux interface names, the rules of the kernel's {@code dev_valid_name} that Go's
 * {@code utils.ValidateInterfaceName} applies to {@code CNI_IFNAME}, plus what an {@code ip -batch}
 * line can carry.
 */
public final class InterfaceNames {
    /** IFNAMSIZ - 1. */
    public static final int MAX_LENGTH = 15;

    private InterfaceNames() {
    }

    /**
     * Why {@code name} cannot name a Linux interface, or null when it can: non-empty, at most 15 bytes,
     * not {@code .} or {@code ..}, no {@code /}, {@code :} or whitespace.
     */
    public static String problem(String name) {
        if (name == null || name.isEmpty()) {
            return "interface name is empty";
        }
        if (name.length() > MAX_LENGTH) {
            return "interface name '" + name + "' is longer than " + MAX_LENGTH + " characters";
        }
        if (".".equals(name) || "..".equals(name)) {
            return "interface name '" + name + "' is not allowed";
        }
        for (int i = 0; i < name.length(); i++) {
            char c = name.charAt(i);
            if (c == '/' || c == ':' || Character.isWhitespace(c) || c < 0x20 || c > 0x7e) {
                return "interface name '" + name + "' contains an invalid character";
            }
        }
        return null;
    }

    /**
     * Checks {@code name}, also refusing the characters an {@code ip -batch} line would interpret
     * (quotes, backslash, {@code #}), which Linux allows but no CNI setup uses.
     *
     * @throws IllegalArgumentException with the reason
     */
    public static String check(String name, String what) {
        String p = problem(name);
        if (p == null) {
            for (int i = 0; i < name.length(); i++) {
                char c = name.charAt(i);
                if (c == '"' || c == '\'' || c == '\\' || c == '#') {
                    p = "interface name '" + name + "' contains '" + c + "', which nodekit does not support";
                    break;
                }
            }
        }
        if (p != null) {
            throw new IllegalArgumentException(what + ": " + p);
        }
        return name;
    }
}
