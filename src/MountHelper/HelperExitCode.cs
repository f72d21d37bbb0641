namespace Safemount.MountHelper;

/// <summary>Exit statuses of mount(8) helpers (mount(8) "RETURN CODES").</summary>
internal static class HelperExitCode
{
    public const int Success = 0;

    /// <summary>Incorrect invocation or permissions.</summary>
    public const int Usage = 1;

    /// <summary>Mount failure.</summary>
    public const int MountFailure = 32;
}
