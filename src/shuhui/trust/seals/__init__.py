"""Electronic seals (电子印章): ``models`` (the registry), ``service`` (keys, signing and
verifying envelopes), ``schemas``, ``routes`` (the API), ``pages`` (the verification page),
``uploads`` (reading and verifying what both are sent), ``cli`` (``shuhui seal``)."""
