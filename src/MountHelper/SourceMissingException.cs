namespace Safemount.MountHelper;

/// <summary>
/// The source does not exist (open(2) said ENOENT, ENXIO or ENODEV). A mount failure (exit 32)
/// like any other, except under "nofail", where it means "nothing to mount" (exit 0).
/// </summary>
internal sealed class SourceMissingException : Exception
{
    public SourceMissingException(string message)
        : base(message)
    {
    }
}
