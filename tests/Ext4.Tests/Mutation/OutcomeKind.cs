namespace Safemount.Ext4.Tests.Mutation;

/// <summary>
/// The acceptable results of walking one mutated image: nothing noticed (Clean), some
/// operations failed with the engine's typed errors (TypedError), or Open refused the volume
/// (Refused). Everything else (another exception, a walk over the time bound, an allocation
/// over the bound) is a failure and is reported, not tallied.
/// </summary>
internal enum OutcomeKind
{
    Clean,
    TypedError,
    Refused,
}
