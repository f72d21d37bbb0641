namespace Safemount.MountHelper;

/// <summary>A failure to report as "mount.safe.ext4: SOURCE: reason" with the given exit status.</summary>
internal sealed class MountFailureException : Exception
{
    public MountFailureException(string message, int exitCode = HelperExitCode.MountFailure)
        : base(message)
    {
        ExitCode = exitCode;
    }

    public int ExitCode { get; }
}
