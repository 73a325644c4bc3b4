//! The diesel schema, kept by hand in step with `migrations/` (a test checks that the
//! migrated database has exactly these columns).

diesel::table! {
    gpus (id) {
        id -> BigInt,
        owner_address -> Text,
        gpu_model -> Text,
        vram_gb -> Nullable<Integer>,
        gpu_count -> Integer,
        region -> Nullable<Text>,
        price_per_minute -> BigInt,
        status -> Text,
        completed_rentals -> Integer,
        failed_rentals -> Integer,
        last_heartbeat_at -> Nullable<BigInt>,
        created_at -> BigInt,
        updated_at -> BigInt,
        listing_id -> Nullable<BigInt>,
        register_txid -> Nullable<Text>,
        cluster_id -> Nullable<BigInt>,
        listing_cluster_id -> Nullable<BigInt>,
        app_id -> Nullable<BigInt>,
        retirement_effective -> Nullable<BigInt>,
        change_seq -> BigInt,
    }
}

diesel::table! {
    listing_clock (id) {
        id -> Integer,
        seq -> BigInt,
    }
}

diesel::table! {
    clusters (id) {
        id -> BigInt,
        operator_address -> Text,
        name -> Text,
        description -> Text,
        total_shares -> BigInt,
        price_per_share -> BigInt,
        status -> Text,
        chain_cluster_id -> Nullable<BigInt>,
        asset_id -> Nullable<BigInt>,
        create_txid -> Nullable<Text>,
        failure_reason -> Nullable<Text>,
        created_at -> BigInt,
        updated_at -> BigInt,
        app_id -> Nullable<BigInt>,
    }
}

diesel::table! {
    rentals (id) {
        id -> BigInt,
        gpu_id -> BigInt,
        renter_address -> Text,
        provider_address -> Text,
        price_per_minute -> BigInt,
        max_minutes -> BigInt,
        deposit -> BigInt,
        status -> Text,
        stop_requested_at -> Nullable<BigInt>,
        started_at -> Nullable<BigInt>,
        ended_at -> Nullable<BigInt>,
        cost -> Nullable<BigInt>,
        fee -> Nullable<BigInt>,
        provider_amount -> Nullable<BigInt>,
        refund -> Nullable<BigInt>,
        failure_reason -> Nullable<Text>,
        rent_txid -> Nullable<Text>,
        settle_txid -> Nullable<Text>,
        created_at -> BigInt,
        updated_at -> BigInt,
        chain_rental_id -> Nullable<BigInt>,
        app_id -> Nullable<BigInt>,
    }
}

diesel::table! {
    jobs (id) {
        id -> BigInt,
        kind -> Text,
        rental_id -> Nullable<BigInt>,
        gpu_id -> Nullable<BigInt>,
        cluster_id -> Nullable<BigInt>,
        payload -> Nullable<Text>,
        state -> Text,
        attempts -> Integer,
        last_error -> Nullable<Text>,
        run_after -> BigInt,
        unsigned_group -> Nullable<Text>,
        signed_group -> Nullable<Binary>,
        signed_txid -> Nullable<Text>,
        created_at -> BigInt,
        updated_at -> BigInt,
        claimed_by -> Nullable<Text>,
        lease_expires_at -> Nullable<BigInt>,
    }
}

diesel::table! {
    api_keys (id) {
        id -> BigInt,
        address -> Text,
        key_hash -> Text,
        label -> Text,
        created_at -> BigInt,
        revoked_at -> Nullable<BigInt>,
    }
}

diesel::table! {
    idempotency_keys (principal, idempotency_key) {
        principal -> Text,
        idempotency_key -> Text,
        request_fingerprint -> Text,
        response_status -> Integer,
        response_body -> Text,
        response_location -> Nullable<Text>,
        created_at -> BigInt,
    }
}

diesel::joinable!(rentals -> gpus (gpu_id));
diesel::joinable!(jobs -> rentals (rental_id));
diesel::joinable!(jobs -> gpus (gpu_id));
diesel::allow_tables_to_appear_in_same_query!(gpus, rentals, jobs, api_keys, idempotency_keys);
diesel::allow_tables_to_appear_in_same_query!(chain_listings, chain_rentals);
diesel::allow_tables_to_appear_in_same_query!(gpus, clusters);
diesel::allow_tables_to_appear_in_same_query!(clusters, jobs);

diesel::table! {
    chain_cursors (app_id) {
        app_id -> BigInt,
        round -> BigInt,
        updated_at -> BigInt,
    }
}

diesel::table! {
    chain_events (id) {
        id -> BigInt,
        app_id -> BigInt,
        round -> BigInt,
        txid -> Text,
        log_index -> Integer,
        name -> Text,
        body -> Text,
    }
}

diesel::table! {
    chain_listings (app_id, listing_id) {
        app_id -> BigInt,
        listing_id -> BigInt,
        provider -> Text,
        price_per_minute -> BigInt,
        cluster_id -> BigInt,
        active_rental_id -> BigInt,
        delisted -> Bool,
        updated_round -> BigInt,
        retirement_effective -> Nullable<BigInt>,
    }
}

diesel::table! {
    chain_rentals (app_id, rental_id) {
        app_id -> BigInt,
        rental_id -> BigInt,
        listing_id -> BigInt,
        renter -> Text,
        provider -> Text,
        price_per_minute -> BigInt,
        deposit -> BigInt,
        start -> BigInt,
        max_end -> BigInt,
        fee_bps -> BigInt,
        cluster_id -> BigInt,
        rent_txid -> Text,
        settled_round -> Nullable<BigInt>,
        settle_txid -> Nullable<Text>,
        settled_by -> Nullable<Text>,
        ended_at -> Nullable<BigInt>,
        elapsed -> Nullable<BigInt>,
        cost -> Nullable<BigInt>,
        fee -> Nullable<BigInt>,
        provider_amount -> Nullable<BigInt>,
        refund -> Nullable<BigInt>,
    }
}

diesel::table! {
    chain_clusters (app_id, cluster_id) {
        app_id -> BigInt,
        cluster_id -> BigInt,
        asset_id -> BigInt,
        operator -> Text,
        total_shares -> BigInt,
        price_per_share -> BigInt,
        url -> Text,
        revenue -> BigInt,
        acc -> Text,
    }
}

diesel::table! {
    chain_holdings (app_id, cluster_id, holder) {
        app_id -> BigInt,
        cluster_id -> BigInt,
        holder -> Text,
        shares -> BigInt,
        claimed -> BigInt,
    }
}

diesel::table! {
    chain_anomalies (id) {
        id -> BigInt,
        app_id -> BigInt,
        round -> BigInt,
        txid -> Text,
        log_index -> Integer,
        reason -> Text,
        log -> Binary,
        recorded_at -> BigInt,
    }
}
