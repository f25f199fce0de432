package dev.nodekit.cni.net;

import java.util.ArrayList;
import java.util.List;

/**
 * The lines of one {@code ip -batch -} run: many link/address/route operations for the price of one
 * exec. Each line is a list of tokens; a token may not contain whitespace, quotes, a backslash or
 * {@code #} (which {@code ip} would treat as a comment), so a name taken from a request can never turn
 * into a second operation. Not thread-safe; build one per call.
 */
public final class IpBatch {
    private final List<String> lines = new ArrayList<>();

    /** An empty batch. */
    public IpBatch() {
    }

    /**
     * Appends one operation, e.g. {@code add("link", "set", "eth0", "up")}.
     *
     * @throws IllegalArgumentException when a token is empty or holds a character a batch line cannot carry
     */
    public IpBatch add(String... tokens) {
        if (tokens.length == 0) {
            throw new IllegalArgumentException("an ip batch line needs at least one token");
        }
        StringBuilder sb = new StringBuilder(64);
        for (String t : tokens) {
            checkToken(t);
            if (sb.length() > 0) {
                sb.append(' ');
            }
            sb.append(t);
        }
        lines.add(sb.toString());
        return this;
    }

    /** Appends one operation given as a list of tokens. */
    public IpBatch add(List<String> tokens) {
        return add(tokens.toArray(new String[0]));
    }

    private static void checkToken(String t) {
        if (t == null || t.isEmpty()) {
            throw new IllegalArgumentException("empty token in an ip batch line");
        }
        for (int i = 0; i < t.length(); i++) {
            char c = t.charAt(i);
            if (c <= ' ' || c == '"' || c == '\'' || c == '\\' || c == '#' || c > 0x7e) {
                throw new IllegalArgumentException("token '" + t + "' cannot be part of an ip batch line");
            }
        }
    }

    /** Whether no line was added. */
    public boolean isEmpty() {
        return lines.isEmpty();
    }

    /** The lines, in order. */
    public List<String> lines() {
        return List.copyOf(lines);
    }

    /** Line {@code n} counting from 1, as {@code ip} reports it ({@code Command failed -:2}). */
    public String line(int n) {
        return n >= 1 && n <= lines.size() ? lines.get(n - 1) : null;
    }

    /** The batch as {@code ip} reads it on stdin. */
    public String text() {
        StringBuilder sb = new StringBuilder(lines.size() * 48);
        for (String l : lines) {
            sb.append(l).append('\n');
        }
        return sb.toString();
    }

    @Override
    public String toString() {
        return "IpBatch" + lines;
    }
}
