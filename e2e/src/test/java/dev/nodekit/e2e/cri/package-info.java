/** Integration tests of the CRI suite against real runtimes, and the runner other CRI ITs reuse. */
package dev.nodekit.e2e.cri;
