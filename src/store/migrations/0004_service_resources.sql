-- A service's requirement groups name only live resources of its own
-- organization, checked by the database in the statement that writes them.
--
-- resource_ids is an array, which a foreign key cannot cover, and slotd
-- checked the ids in one statement and wrote them in another: a resource
-- deleted between the two (or an id written by another program) left a
-- service requiring a resource that is not there. This trigger checks every
-- id when a group is inserted or its ids change, and locks the resources it
-- finds (FOR SHARE), so a concurrent deletion waits for the write's commit
-- and the write waits for a deletion in progress, then sees its outcome.
-- A violation is SQLSTATE 23503 (foreign_key_violation).
--
-- Resources deleted later (soft deletion) still may appear in groups: a
-- service keeps its configuration and the index skips what is not live.

CREATE FUNCTION slotd_check_requirement_resources() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
    found integer;
BEGIN
    IF TG_OP = 'UPDATE' AND NEW.resource_ids = OLD.resource_ids THEN
        RETURN NEW;
    END IF;
    SELECT count(*) INTO found FROM (
        SELECT 1 FROM resources r
         WHERE r.organization_id = NEW.organization_id
           AND r.id = ANY (NEW.resource_ids) AND r.deleted_at IS NULL
           FOR SHARE) live;
    IF found <> (SELECT count(DISTINCT x) FROM unnest(NEW.resource_ids) x) THEN
        RAISE EXCEPTION 'a requirement group of service % names a resource that is not live',
                        NEW.service_id
              USING ERRCODE = 'foreign_key_violation';
    END IF;
    RETURN NEW;
END $$;

CREATE TRIGGER service_requirements_resources
    BEFORE INSERT OR UPDATE OF resource_ids ON service_requirements
    FOR EACH ROW EXECUTE FUNCTION slotd_check_requirement_resources();
