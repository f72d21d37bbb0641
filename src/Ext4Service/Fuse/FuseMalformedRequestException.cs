namespace Safemount.Fuse;

/// <summary>
/// A request from /dev/fuse that does not follow the protocol (wrong length, truncated op
/// struct, name without NUL, alleged size beyond a named bound). Bad input, not a bug: the
/// session answers it with EINVAL (or drops it, for opcodes that are never answered) and logs it.
/// </summary>
public sealed class FuseMalformedRequestException : Exception
{
    public FuseMalformedRequestException(string message)
        : base(message)
    {
    }
}
