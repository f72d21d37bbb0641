namespace Safemount.MountHelper;

/// <summary>A command-line error: printed on one line, exit status 1.</summary>
internal sealed class UsageException : Exception
{
    public UsageException(string message)
        : base(message)
    {
    }
}
