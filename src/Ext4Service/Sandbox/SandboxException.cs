namespace Safemount.Ext4Service.Sandbox;

/// <summary>
/// A confinement step failed. The service stops before it serves anything: a half-confined
/// service is never allowed to parse the device.
/// </summary>
internal sealed class SandboxException : Exception
{
    public SandboxException(string step, string message, Exception? inner = null)
        : base($"sandbox ({step}): {message}", inner)
    {
        Step = step;
    }

    /// <summary>The step that failed: identity, fds, capabilities, rlimits, landlock, seccomp.</summary>
    public string Step { get; }
}
