"""Electronic seals (电子印章): ``models`` (the registry), ``service`` (keys, signing and
verifying envelopes), ``routes`` (the API and the verification page), ``cli`` (``shuhui seal``)."""
