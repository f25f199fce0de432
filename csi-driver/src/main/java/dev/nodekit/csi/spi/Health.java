package dev.nodekit.csi.spi;

import java.util.Objects;

/** A backend's health, as Probe and ControllerGetVolume report it. */
public record Health(boolean healthy, String message) {
    public Health {
        Objects.requireNonNull(message, "message");
    }

    public static Health ok() {
        return new Health(true, "");
    }

    public static Health unhealthy(String reason) {
        return new Health(false, reason);
    }
}
