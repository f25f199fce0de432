/**
 * The CNI executables' entry point ({@link dev.nodekit.cni.launch.PluginMain}) and its lean command
 * runner. Launcher scripts written by {@code nodekit cni install} run
 * {@code java ... -cp <cni-plugin, spec, common, jackson-core, slf4j-api> dev.nodekit.cni.launch.PluginMain <type>}.
 */
package dev.nodekit.cni.launch;
